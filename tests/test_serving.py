"""Serving: idle connections must not stop either app (real `central run` and `kiosk run` processes)."""

import socket
import time

import pytest
import requests

from kiosk.config import SettingError
from kiosk.serving import options

IDLE = 150


def hold_idle_connections(port, count):
    """`count` TCP connections to the server that never send a byte."""
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        held.append(sock)
    return held


def healthz_seconds(url):
    started = time.monotonic()
    reply = requests.get(url + "/healthz", timeout=2)
    assert reply.status_code == 200 and reply.json()["ok"] is True
    return time.monotonic() - started


def check_answers_beside_idle_connections(server):
    held = hold_idle_connections(server.port, IDLE)
    try:
        time.sleep(0.5)  # let the server accept them all
        for _ in range(3):
            assert healthz_seconds(server.url) < 2
    finally:
        for sock in held:
            sock.close()


@pytest.fixture
def sqlite_central(tmp_path):
    """A `central run` on SQLite (serving does not depend on the store), not yet started."""
    from conftest import LiveCentral, free_port
    central = LiveCentral(f"sqlite:///{tmp_path / 'central.db'}", free_port())
    assert central.cli("init").returncode == 0
    yield central
    central.stop()


@pytest.mark.slow
def test_central_answers_healthz_beside_150_idle_connections(sqlite_central):
    check_answers_beside_idle_connections(sqlite_central.start())


@pytest.mark.slow
def test_the_kiosk_answers_healthz_beside_150_idle_connections(live_kiosk):
    check_answers_beside_idle_connections(live_kiosk())


@pytest.mark.slow
def test_idle_connections_are_closed_after_the_channel_timeout(live_kiosk):
    kiosk = live_kiosk(KIOSK_CHANNEL_TIMEOUT="5")
    [sock] = hold_idle_connections(kiosk.port, 1)
    try:
        sock.settimeout(20)
        started = time.monotonic()
        assert sock.recv(1) == b""  # the server hung up
        assert time.monotonic() - started < 17
    finally:
        sock.close()


def test_serving_limits_come_from_settings():
    assert options("CENTRAL", {}) == {"threads": 8, "connection_limit": 500, "channel_timeout": 30,
                                      "cleanup_interval": 10}
    assert options("KIOSK", {"KIOSK_CONNECTION_LIMIT": "2000", "KIOSK_CHANNEL_TIMEOUT": "5"})[
        "connection_limit"] == 2000
    for bad in ("many", "5", "0", "100000"):
        with pytest.raises(SettingError, match="CENTRAL_CONNECTION_LIMIT must be a whole number from 10"):
            options("CENTRAL", {"CENTRAL_CONNECTION_LIMIT": bad})


def test_a_wrong_limit_stops_both_servers_with_one_sentence(sqlite_central, kiosk_env):
    sqlite_central.env["CENTRAL_CHANNEL_TIMEOUT"] = "forever"
    result = sqlite_central.cli("run", "--port", "8399")
    assert result.returncode == 1 and "CENTRAL_CHANNEL_TIMEOUT must be a whole number from 5" in result.stderr
    from conftest import LiveKiosk
    kiosk = LiveKiosk({**kiosk_env, "KIOSK_CONNECTION_LIMIT": "-1"}, 5449)
    assert kiosk.cli("init").returncode == 0
    result = kiosk.cli("run")
    assert result.returncode == 1 and "KIOSK_CONNECTION_LIMIT must be a whole number from 10" in result.stderr
