"""Typical outcomes published (issue 12, item 7): only closed cases, never with the citizen's phone, name or
dossier code, on a public page without login; unpublishing is logged."""

import re

from helpers import csrf, log_in
from sync.central import publishing
from sync.central.store import cases as case_store
from sync.central.store import database, schema

QUESTION = "Người dân phản ánh cán bộ hướng dẫn chưa rõ về hồ sơ cấp phép xây dựng."
ANSWER = "Đơn vị đã nhắc nhở cán bộ và hướng dẫn lại đầy đủ thành phần hồ sơ."


def closed_case(client, engine):
    [case] = [c for c in case_store.list_cases(engine) if c["officer"] == "An"]
    url = f"/cases/{case['id']}"
    token = csrf(client, url)
    client.post(url, data={"csrf_token": token, "answer": "Đã xử lý, xin lỗi Ông/Bà.", "close": "y"})
    with database.write(engine) as conn:  # the kiosk's dossier code, as a citizen would have scanned it
        conn.execute(schema.responses.update().where(schema.responses.c.id == case["response_id"])
                     .values(dossier_code="H12.345-2026"))
    return case["id"], url


def test_leaks_finds_phone_name_dossier_and_phone_like_numbers():
    case = {"phone": "0912345678", "dossier_code": "H12.345-2026", "citizen_name": "Nguyễn Văn A"}
    assert publishing.leaks("Gọi 0912 345 678 nhé", case) == ["phone"]
    assert publishing.leaks("Ông NGUYỄN VĂN A phản ánh", case) == ["name"]
    assert publishing.leaks("hồ sơ h12.345-2026", case) == ["dossier"]
    assert publishing.leaks("số +84 98 765 4321", case) == ["phone_like"]
    assert publishing.leaks("Ngày 12/3/2026, 2 lần, phí 500.000 đồng", case) == []
    assert publishing.leaks("hồ sơ H12 345 2026 chưa xong", case) == ["dossier"]  # however it is spaced


def test_leaks_finds_the_officer_concerned_by_whole_name():
    case = {"officer": "Trần Văn Hùng", "dossier_code": "HS-00001"}
    assert publishing.leaks("Cán bộ TRẦN VĂN HÙNG hẹn 3 lần", case) == ["officer"]
    assert publishing.leaks("hồ sơ HS 00001 chưa xong", case) == ["dossier"]
    assert publishing.leaks("Cán bộ hẹn 3 lần, hồ sơ chưa xong", case) == []
    assert publishing.leaks("an toàn, đúng hẹn", {"officer": "An"}) == []  # a short name is not matched


def test_publish_refuses_identifying_text_then_shows_it_without_login(with_complaint, central_engine):
    log_in(with_complaint, "sup-a")
    [case] = [c for c in case_store.list_cases(central_engine) if c["officer"] == "An"]
    assert with_complaint.get(f"/cases/{case['id']}/publish").status_code == 409  # not closed yet
    case_id, url = closed_case(with_complaint, central_engine)
    form = with_complaint.get(url + "/publish").get_data(as_text=True)
    assert "Cán bộ gây khó dễ" in form and "xóa họ tên, số điện thoại" in form  # pre-filled, with the warning
    token = csrf(with_complaint, url + "/publish")
    for leaked in ("Gọi lại 0912345678", "Hồ sơ H12.345-2026 bị chậm", "Liên hệ 0987 654 321"):
        refused = with_complaint.post(url + "/publish", data={"csrf_token": token, "question": leaked,
                                                               "answer": ANSWER})
        assert refused.status_code == 400 and "Xin xóa trước khi công khai" in refused.get_data(as_text=True)
    assert with_complaint.post(url + "/publish", data={"csrf_token": token, "question": "", "answer": ANSWER}) \
        .status_code == 400
    assert with_complaint.get("/cong-khai").get_data(as_text=True).count('class="qa"') == 0
    done = with_complaint.post(url + "/publish", data={"csrf_token": token, "question": QUESTION, "answer": ANSWER})
    assert done.status_code == 302
    with_complaint.post("/logout", data={"csrf_token": csrf(with_complaint, "/")})
    public = with_complaint.get("/cong-khai")
    html = public.get_data(as_text=True)
    assert public.status_code == 200 and QUESTION in html and ANSWER in html
    for secret in ("0912345678", "H12.345-2026", "Cán bộ gây khó dễ", "sup-a"):
        assert secret not in html
    month = re.search(r'<option value="(\d{4}-\d{2})"', html)[1]
    assert QUESTION in with_complaint.get(f"/cong-khai?unit=Unit A&month={month}").get_data(as_text=True)
    assert QUESTION not in with_complaint.get("/cong-khai?unit=Unit B").get_data(as_text=True)
    assert with_complaint.get("/cong-khai?month=2026-13").status_code == 400
    log_in(with_complaint, "sup-a")
    with_complaint.post(url + "/unpublish", data={"csrf_token": csrf(with_complaint, url)})
    assert QUESTION not in with_complaint.get("/cong-khai").get_data(as_text=True)
    actions = [h["action"] for h in case_store.get_case(central_engine, case_id)["history"]]
    assert actions[-2:] == ["publish", "unpublish"]


def test_an_officer_cannot_publish(with_complaint, central_engine):
    log_in(with_complaint, "sup-a")
    _case_id, url = closed_case(with_complaint, central_engine)
    log_in(with_complaint, "an")
    assert with_complaint.get(url + "/publish").status_code == 403
    assert with_complaint.post(url + "/unpublish", data={"csrf_token": csrf(with_complaint, url)}).status_code == 403


def test_leaks_finds_a_dossier_like_code_in_free_text_but_not_dates_amounts_or_legal_citations():
    for text in ("hồ sơ số 000.00.12.H59-261105-0042 quá hạn", "mã H59.22-241120-0001", "HS-2026-00012345"):
        assert publishing.leaks(text, {}) == ["dossier"], text
    for text in ("NĐ 20/2008/NĐ-CP ngày 14/02/2008", "phí 15.000.000 đồng", "ngày 2026-11-20",
                 "Quyết định số 1001/QĐ-BNV", "mã số 12345678"):
        assert publishing.leaks(text, {}) == [], text
