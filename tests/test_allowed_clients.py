"""KIOSK_ALLOWED_CLIENTS: only the named browsers may use the survey and staff mode; others get a 403."""

import ipaddress
import sqlite3

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
