"""What both apps share for safety: `next` links stay on the site, the same security headers everywhere,
no caching of pages with personal data, and error pages in the page's language."""

from urllib.parse import quote, unquote

import pytest

from conftest import sqlite_only
from kiosk.websafety import safe_next
from helpers import csrf, log_in, STAFF_PASSWORD as PASSWORD

#: `next` as it appears in a query string (already URL-encoded): every trick that leaves the site.
OFF_SITE = [
    "/%09/example.com",  # a tab: browsers drop it, leaving //example.com
    "/%0d%0a/example.com",  # CR LF: header injection, and dropped by browsers
    "/%0a/example.com", "/%0d/example.com",
    "//example.com", "///example.com", "%2F%2Fexample.com",
    "/%5Cexample.com", "%5C%5Cexample.com", "/%5C/example.com",  # backslashes read as slashes
    "/%252F/example.com", "/%252f%252fexample.com", "/%255C/example.com",  # encoded slashes
    "https://example.com", "https:example.com", "HTTPS://example.com/", "javascript:alert(1)",
    "%20//example.com", "%09//example.com", "/%E2%80%A8/example.com", "/%C2%A0/example.com",
    "/%00/example.com", "/./%252F/example.com", "/../example.com", "example.com", "",
    "/" + "a" * 2100,
]
#: Paths on the site, as the pages' own links send them (the whole value URL-encoded).
ON_SITE = [quote(path, safe="") for path in ("/cases?status=new", "/?date=2026-01-31&unit=Sở Xây dựng",
                                             "/q/overall", "/report?month=2026-01", "/cases/12")]


@pytest.mark.parametrize("raw", OFF_SITE)
def test_safe_next_refuses_every_way_off_the_site(raw):
    assert safe_next(unquote(raw), "/fallback") == "/fallback"


@pytest.mark.parametrize("raw", ON_SITE)
def test_safe_next_keeps_a_path_on_the_site(raw):
    assert safe_next(unquote(raw), "/fallback") == unquote(raw)


def test_safe_next_takes_anything_a_query_gives():
    for value in (None, 12, b"/cases", ["/"]):
        assert safe_next(value, "/f") == "/f"


def location(reply):
    assert reply.status_code == 302, reply.status_code
    return unquote(reply.headers["Location"])


def test_the_kiosk_language_switch_stays_on_the_kiosk(client):
    for raw in OFF_SITE:
        assert location(client.get(f"/lang/en?next={raw}")) == "/", raw
    for raw in ON_SITE:
        assert location(client.get(f"/lang/en?next={raw}")) == unquote(raw), raw


@sqlite_only
def test_central_language_switch_and_login_stay_on_central(site):
    for raw in OFF_SITE + ON_SITE:
        expected = unquote(raw) if raw in ON_SITE else "/"
        assert location(site.get(f"/lang/en?next={raw}")) == expected, raw
        reply = site.post(f"/login?next={raw}", data={"csrf_token": csrf(site), "name": "admin",
                                                      "password": PASSWORD})
        assert location(reply) == expected, raw


# --- headers ---------------------------------------------------------------------------------------

SECURITY = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")


@sqlite_only
def test_the_kiosk_sends_the_same_security_headers_as_central(client, site):
    kiosk, central = client.get("/"), site.get("/login")
    for name in SECURITY:
        assert kiosk.headers[name] == central.headers[name], name
    assert "default-src 'self'" in kiosk.headers["Content-Security-Policy"]
    assert kiosk.headers["Cache-Control"] == "no-store" and central.headers["Cache-Control"] == "no-store"
    assert client.get("/staff/").headers["Cache-Control"] == "no-store"
    static = client.get("/static/kiosk.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()


@sqlite_only
def test_pages_and_exports_with_personal_data_are_never_cached(site, central_engine):
    from sync.central.store import cases as case_store
    log_in(site, "admin")
    case_id = case_store.list_cases(central_engine)[0]["id"]
    for path in ("/", f"/cases/{case_id}", "/cases", "/export.csv", "/export.xlsx", "/trends", "/report"):
        reply = site.get(path)
        assert reply.status_code == 200, path
        assert reply.headers["Cache-Control"] == "no-store", path
        assert reply.headers["X-Frame-Options"] == "DENY", path
    assert site.get("/nowhere").headers["Cache-Control"] == "no-store"


# --- error pages in the page's language --------------------------------------------------------------

VI_ERRORS = {403: "không có quyền mở trang này", 404: "Trang này không tồn tại", 405: "Không thể thực hiện",
             413: "Nội dung gửi quá lớn", 429: "Thử quá nhiều lần", 500: "Hệ thống gặp lỗi",
             400: "Yêu cầu không hợp lệ"}
EN_ERRORS = {403: "You may not open this page", 404: "This page does not exist", 405: "This action is not allowed",
             413: "What was sent is too large", 429: "Too many attempts", 500: "Something went wrong on our side",
             400: "The request was not valid"}


def add_failing_routes(app):
    """Routes that raise each error, added before the app's first request."""
    from flask import abort

    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.add_url_rule("/boom/<int:code>", "boom", lambda code: abort(code) if code != 500 else 1 / 0)


@sqlite_only
@pytest.mark.parametrize("which", ["kiosk", "central"])
def test_every_error_page_speaks_the_pages_language(which, app, central_app, central_engine):
    from sync.central.store import accounts
    chosen = app if which == "kiosk" else central_app
    add_failing_routes(chosen)
    client = chosen.test_client()
    if which == "central":
        accounts.add_user(central_engine, "admin", "admin", None, PASSWORD)
        log_in(client, "admin")
    for lang, expected in (("vi", VI_ERRORS), ("en", EN_ERRORS)):
        client.get(f"/lang/{lang}")
        for code, words in expected.items():
            reply = client.get(f"/boom/{code}")
            page = reply.get_data(as_text=True)
            assert reply.status_code == code and words in page, (lang, code)
            assert f'<html lang="{lang}">' in page
            if lang == "vi":
                assert "Internal Server Error" not in page and "Not Found" not in page
    client.get("/lang/vi")
    assert "Không thể thực hiện" in client.put("/lang/vi").get_data(as_text=True)  # a real 405
    assert client.get("/boom/x").status_code == 404


@pytest.mark.browser
def test_chromium_stays_on_the_kiosk_after_every_trick(browser, live_kiosk):
    kiosk = live_kiosk()
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    for raw in ("/%09/example.invalid", "/%5Cexample.invalid", "/%0d%0a/example.invalid", "%2F%2Fexample.invalid",
                "/%252F/example.invalid", "https:example.invalid"):
        page.goto(f"{kiosk.url}/lang/en?next={raw}")
        assert page.url == kiosk.url + "/", raw
    context.close()
