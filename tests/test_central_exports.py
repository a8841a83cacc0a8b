"""Exports (CSV with BOM, XLSX), trends and the monthly report: scoped by role, no phone numbers."""

import csv
import io

from openpyxl import load_workbook

from test_central_cases import with_complaint  # noqa: F401  (fixture)
from test_central_pages import log_in, site, today  # noqa: F401  (site is a fixture)


def test_csv_is_utf8_with_bom_and_scoped(with_complaint):  # noqa: F811
    log_in(with_complaint, "admin")
    reply = with_complaint.get(f"/export.csv?start={today()}&end={today()}")
    assert reply.status_code == 200 and reply.mimetype == "text/csv"
    body = reply.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Ngày", "Thời gian", "Máy"] and rows[0][-1] == "Góp ý"
    assert len(rows) == 1 + 4
    assert "Cán bộ gây khó dễ" in body.decode("utf-8")
    assert b"0912345678" not in body  # phone numbers never leave the case page


def test_an_officer_exports_only_their_own_rows(with_complaint):  # noqa: F811
    log_in(with_complaint, "an")
    text = with_complaint.get(f"/export.csv?start={today()}&end={today()}").get_data().decode("utf-8-sig")
    officers = {row[5] for row in list(csv.reader(io.StringIO(text)))[1:]}
    assert officers == {"An"}
    assert with_complaint.get("/export.csv?unit=Unit B").status_code == 403


def test_xlsx_has_a_summary_sheet_and_a_raw_sheet(with_complaint):  # noqa: F811
    log_in(with_complaint, "sup-a")
    reply = with_complaint.get("/export.xlsx")
    book = load_workbook(io.BytesIO(reply.get_data()))
    assert book.sheetnames == ["Tổng hợp", "Số phiếu"]
    summary = list(book["Tổng hợp"].values)
    assert summary[0][:4] == ("Ngày", "Số phiếu", "Bị gắn cờ", "Chỉ số (cách tính SIPAS)")
    assert len(summary) == 1 + 30 and summary[-1][0] == today() and summary[-1][1] == 3  # Unit A only
    assert len(list(book["Số phiếu"].values)) == 1 + 3


def test_bad_ranges_are_refused(with_complaint):  # noqa: F811
    log_in(with_complaint, "admin")
    for query in ("start=2026-01-31&end=2026-01-01", "start=2020-01-01&end=2026-01-01", "start=31/01/2026"):
        reply = with_complaint.get(f"/export.csv?{query}")
        assert reply.status_code == 400 and "cách nhau tối đa một năm" in reply.get_data(as_text=True)


def test_trends_and_monthly_report(with_complaint):  # noqa: F811
    log_in(with_complaint, "admin")
    trends = with_complaint.get("/trends?days=90").get_data(as_text=True)
    assert trends.count("<polyline") == 2  # overall and attitude have answers today
    assert with_complaint.get("/trends?days=7").status_code == 400
    report = with_complaint.get(f"/report?month={today()[:7]}").get_data(as_text=True)
    assert "Báo cáo sự hài lòng của người dân" in report and "Yếu tố 3" in report
    assert with_complaint.get("/report?month=2026-13").status_code == 400
