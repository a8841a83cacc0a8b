"""KIOSK_ALLOWED_CLIENTS: only the named browsers may use the survey and staff mode; others get a 403."""

import ipaddress
import sqlite3
import subprocess
import sys
import time

import pytest
import requests
from requests.adapters import HTTPAdapter

from kiosk import clients
from kiosk.config import SettingError, allowed_clients_from

PATHS = [("GET", "/"), ("GET", "/q/overall"), ("POST", "/q/overall"), ("GET", "/feedback"),
         ("POST", "/feedback"), ("GET", "/reset"), ("GET", "/staff/"), ("POST", "/staff/"),
         ("POST", "/staff/duty"), ("GET", "/healthz")]


class FromAddress(HTTPAdapter):
    """Connections that leave from a chosen local address (any of 127.0.0.0/8 is this machine's loopback)."""

    def __init__(self, source: str):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(source: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", FromAddress(source))
    return session


def dump(db_path) -> list:
    """Every row of every table of the kiosk's store, as SQL text."""
    conn = sqlite3.connect(db_path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_a_survey_request_from_another_address_is_refused_and_writes_nothing(live_kiosk):
    kiosk = live_kiosk()  # the default: this machine only (127.0.0.1 and ::1)
    here = session_from("127.0.0.1")
    assert here.get(kiosk.url + "/", timeout=10).status_code == 200  # the kiosk's own screen works
    assert here.get(kiosk.url + "/healthz", timeout=10).json()["ok"] is True
    before = dump(kiosk.db_path)
    other = session_from("127.0.0.2")
    for method, path in PATHS:
        reply = other.request(method, kiosk.url + path, data={"pin": "2468", "answer": "5"}, timeout=10)
        assert reply.status_code == 403, (method, path, reply.status_code)
        assert "Máy này chỉ nhận đánh giá" in reply.text, path
        assert 'lang="vi"' in reply.text and "English" in reply.text
    english = other.get(kiosk.url + "/lang/en?next=/", timeout=10)  # the refusal can be read in English
    assert english.status_code == 403 and "only takes answers on the screen at the counter" in english.text
    assert dump(kiosk.db_path) == before


def test_an_address_named_in_the_setting_may_use_the_kiosk(live_kiosk):
    kiosk = live_kiosk(KIOSK_ALLOWED_CLIENTS="127.0.0.1, 127.0.0.2/32")
    other = session_from("127.0.0.2")
    assert other.get(kiosk.url + "/", timeout=10).status_code == 200
    assert other.get(kiosk.url + "/staff/", timeout=10).status_code == 200
    assert session_from("127.0.0.3").get(kiosk.url + "/", timeout=10).status_code == 403


def test_a_wrong_setting_stops_the_kiosk_naming_it(live_kiosk, kiosk_env):
    from conftest import LiveKiosk, free_port

    kiosk = LiveKiosk({**kiosk_env, "KIOSK_ALLOWED_CLIENTS": "127.0.0.1, the-tablet"}, free_port())
    assert kiosk.cli("init").returncode == 0
    result = kiosk.cli("run", "--port", str(kiosk.port))
    assert result.returncode == 1
    assert "KIOSK_ALLOWED_CLIENTS must be comma-separated IP addresses or networks" in result.stderr
    assert "'the-tablet'" in result.stderr


@pytest.mark.parametrize("address, expected", [
    ("127.0.0.1", True), ("::1", True), ("127.0.0.2", False), ("192.168.1.20", False),
    ("::ffff:127.0.0.1", True), ("", False), (None, False), ("not an address", False)])
def test_the_default_is_this_machine_only(address, expected):
    assert clients.allowed(address, allowed_clients_from({})) is expected


def test_networks_and_mapped_addresses():
    networks = allowed_clients_from({"KIOSK_ALLOWED_CLIENTS": "192.168.1.0/24 , 10.0.0.7"})
    assert networks == (ipaddress.ip_network("192.168.1.0/24"), ipaddress.ip_network("10.0.0.7/32"))
    assert clients.allowed("192.168.1.20", networks) and clients.allowed("::ffff:10.0.0.7", networks)
    assert not clients.allowed("127.0.0.1", networks)  # naming others replaces the default
    with pytest.raises(SettingError, match="not '300.1.1.1'"):
        allowed_clients_from({"KIOSK_ALLOWED_CLIENTS": "300.1.1.1"})


def test_the_refusal_page_reads_in_both_languages_and_passes_axe(browser, live_kiosk, screenshots):
    """Seen from a browser outside the list (here: this machine, with only another address allowed)."""
    from axe_playwright_python.sync_playwright import Axe

    from helpers import Tablet, settled

    kiosk = live_kiosk()
    kiosk.stop()  # made and set up as usual, then served with only another address allowed
    kiosk.env["KIOSK_ALLOWED_CLIENTS"] = "192.0.2.10"
    kiosk.process = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--port", str(kiosk.port)],
                                     env=kiosk.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):  # its /healthz is refused too: wait for the refusal instead
        try:
            if requests.get(kiosk.url + "/", timeout=2).status_code == 403:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    before = dump(kiosk.db_path)
    tablet = Tablet(browser, kiosk).open("/")
    settled(tablet.page)
    try:
        page = tablet.page
        assert page.locator("html").get_attribute("lang") == "vi"
        assert page.get_by_role("heading", level=1).inner_text() == "Không thể dùng máy đánh giá từ thiết bị này"
        assert page.get_by_role("alert").inner_text().startswith("Máy này chỉ nhận đánh giá trên màn hình tại quầy")
        assert page.get_by_role("link", name="Về màn hình đầu").count() == 0  # nowhere to go from here
        tablet.shot(screenshots, "not-allowed-vi")
        violations = [v["id"] for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
        assert violations == []
        with page.expect_navigation():
            page.get_by_role("link", name="English").tap()
        settled(page)
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_role("heading", level=1).inner_text() == "This kiosk cannot be used from here"
        assert "only takes answers on the screen at the counter" in page.get_by_role("alert").inner_text()
        tablet.shot(screenshots, "not-allowed-en")
    finally:
        tablet.close()
    assert dump(kiosk.db_path) == before
