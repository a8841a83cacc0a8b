"""Central's login limits (sync/central/logins.py) on SQLite and PostgreSQL: bursts, other addresses, the proxy."""

import hashlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from conftest import central_env_for
from helpers import STAFF_PASSWORD
from kiosk.clock import now_utc, parse_utc, utc_iso
from sync.central import app as central
from sync.central.store import accounts, database, schema
from sync.central.config import load
from sync.central.cli import central as central_cli

TOKEN = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


class Browser:
    """One visitor of the Flask app from its own address, with its own session and CSRF token."""

    def __init__(self, app, address="198.51.100.1", headers=None):
        self.client, self.address, self.headers = app.test_client(), address, headers or {}
        self.token = TOKEN.search(self.get("/login").get_data(as_text=True))[1]

    def get(self, path):
        return self.client.get(path, environ_base={"REMOTE_ADDR": self.address}, headers=self.headers)

    def log_in(self, name, password):
        return self.client.post("/login", data={"csrf_token": self.token, "name": name, "password": password},
                                environ_base={"REMOTE_ADDR": self.address}, headers=self.headers)


def burst(app, attempts):
    """[(name, password, address)] sent at the same moment, each from its own browser; the status codes."""
    browsers = [Browser(app, address) for _name, _password, address in attempts]
    start = threading.Barrier(len(attempts))

    def send(i):
        name, password, _address = attempts[i]
        start.wait()
        return browsers[i].log_in(name, password).status_code

    with ThreadPoolExecutor(len(attempts)) as pool:
        return list(pool.map(send, range(len(attempts))))


def count_row(engine, key):
    with engine.connect() as conn:
        return conn.execute(select(schema.login_attempts).where(schema.login_attempts.c.key == key)).mappings().first()


@pytest.fixture
def scrypt_calls(monkeypatch):
    """How many times the password hash ran (the real one, counted)."""
    calls, real = [], hashlib.scrypt

    def counted(*args, **kwargs):
        calls.append(kwargs.get("n"))
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counted)
    return calls


def test_a_concurrent_burst_from_many_addresses_checks_at_most_the_limit(login_app, central_engine, scrypt_calls):
    for round_ in range(2):
        codes = burst(login_app, [("admin", "sai-mật-khẩu", f"203.0.{round_}.{i}") for i in range(30)])
        assert codes.count(401) == (10 if round_ == 0 else 0) and codes.count(429) == 30 - codes.count(401)
        with central_engine.connect() as conn:  # refused attempts leave no rows behind
            assert conn.execute(select(schema.login_attempts.c.failures).where(
                schema.login_attempts.c.key.like("addr:203.0.%"))).scalars().all() == [1] * 10
    assert len(scrypt_calls) == 10  # the password was checked ten times, not once more
    row = count_row(central_engine, "name:admin")
    assert row["failures"] == 10 and parse_utc(row["locked_until"]) > now_utc()  # the wait is still in place
    # The right password, in a later burst, does not get in while the name waits.
    attempts = [("admin", "sai-mật-khẩu", f"203.0.2.{i}") for i in range(29)]
    attempts += [("admin", STAFF_PASSWORD, "203.0.2.99")]
    assert set(burst(login_app, attempts)) == {429}
    assert len(scrypt_calls) == 10


def test_failures_from_another_address_do_not_lock_the_admin_out(login_app):
    attacker = Browser(login_app, "203.0.113.66")
    replies = [attacker.log_in("admin", "đoán-sai") for _ in range(6)]
    assert [r.status_code for r in replies] == [401] * 5 + [429]
    assert 14 * 60 < int(replies[-1].headers["Retry-After"]) <= 15 * 60
    assert "Xin thử lại sau 15 phút." in replies[-1].get_data(as_text=True)
    admin = Browser(login_app, "10.1.1.5")
    assert admin.log_in("admin", STAFF_PASSWORD).headers["Location"] == "/"


def test_logging_in_to_ones_own_account_never_clears_the_address(login_app, central_engine):
    same = "203.0.113.9"
    for round_ in range(5):  # 4 failures (for 4 names), then a correct login to sup-a, five times
        codes = [Browser(login_app, same).log_in(f"ten-{round_}-{i}", "đoán-sai").status_code for i in range(4)]
        assert codes == [401] * 4, (round_, codes)
        success = Browser(login_app, same).log_in("sup-a", STAFF_PASSWORD).status_code
        assert success == (302 if round_ < 4 else 429)  # the 20th failure made the address wait
    assert count_row(central_engine, f"addr:{same}")["failures"] == 20
    assert Browser(login_app, "203.0.113.10").log_in("sup-a", STAFF_PASSWORD).status_code == 302


def test_a_success_clears_only_its_own_name_and_address(login_app, central_engine):
    here = Browser(login_app, "203.0.113.20")
    for _ in range(3):
        here.log_in("sup-a", "đoán-sai")
    Browser(login_app, "203.0.113.21").log_in("sup-a", "đoán-sai")
    assert here.log_in("sup-a", STAFF_PASSWORD).status_code == 302
    assert count_row(central_engine, "pair:203.0.113.20 sup-a") is None
    assert count_row(central_engine, "pair:203.0.113.21 sup-a")["failures"] == 1
    assert count_row(central_engine, "name:sup-a")["failures"] == 4  # its own attempt taken back, no more
    assert count_row(central_engine, "addr:203.0.113.20")["failures"] == 3


def test_counts_nobody_needs_any_more_are_dropped(login_app, central_engine):
    from datetime import timedelta
    old = utc_iso(now_utc() - timedelta(minutes=20))
    with database.write(central_engine) as conn:
        conn.execute(schema.login_attempts.insert(), [
            {"key": "addr:192.0.2.1", "failures": 3, "last_failure_utc": old, "locked_until": None},
            {"key": "pair:192.0.2.2 x", "failures": 5, "last_failure_utc": old,
             "locked_until": utc_iso(now_utc() + timedelta(minutes=1))}])
    Browser(login_app).log_in("admin", "đoán-sai")
    assert count_row(central_engine, "addr:192.0.2.1") is None
    assert count_row(central_engine, "pair:192.0.2.2 x")["failures"] == 5  # still waiting: kept


def test_an_unknown_name_runs_the_same_password_hash_as_a_wrong_password(login_app, scrypt_calls):
    browser = Browser(login_app)
    browser.log_in("admin", "đoán-sai")
    wrong = list(scrypt_calls)
    scrypt_calls.clear()
    assert browser.log_in("khong-ton-tai", "đoán-sai").status_code == 401
    assert scrypt_calls == wrong == [2**14]  # one scrypt with the same cost either way


def test_a_disabled_user_with_the_right_password_is_refused_like_a_wrong_one(login_app, central_url):
    result = CliRunner().invoke(central_cli, ["disable-user", "sup-a"], env=central_env_for(central_url))
    assert result.exit_code == 0, result.output
    reply = Browser(login_app).log_in("sup-a", STAFF_PASSWORD)
    assert reply.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu." in reply.get_data(as_text=True)


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(central_url, central_engine):
    accounts.add_user(central_engine, "admin", "admin", None, STAFF_PASSWORD)
    for trusted, key in (("", "addr:127.0.0.1"), ("127.0.0.1/32, 10.0.0.0/8", "addr:203.0.113.77")):
        env = {**central_env_for(central_url), "CENTRAL_TRUSTED_PROXIES": trusted}
        app = central.create_app(load(env), central_engine)
        browser = Browser(app, "127.0.0.1", headers={"X-Forwarded-For": "198.51.100.4, 203.0.113.77"})
        assert browser.log_in("admin", "đoán-sai").status_code == 401
        assert count_row(central_engine, key)["failures"] == 1


def test_a_bad_trusted_proxies_setting_is_named():
    from kiosk.config import SettingError
    with pytest.raises(SettingError, match="CENTRAL_TRUSTED_PROXIES must be .* not 'proxy.local'"):
        load({"CENTRAL_DB": "/tmp/x.db", "CENTRAL_TRUSTED_PROXIES": "127.0.0.1, proxy.local"})


@pytest.mark.slow
def test_a_burst_through_a_trusted_proxy_to_a_real_central(live_central, central_url):
    """A real `central run` behind (simulated) nginx: thirty addresses, one name, three bursts."""
    assert live_central.cli_input("add-user", "admin", "--role", "admin", input=STAFF_PASSWORD + "\n").returncode == 0
    live_central.env["CENTRAL_TRUSTED_PROXIES"] = "127.0.0.1"
    live_central.start()

    def attempt(password, address):
        with requests.Session() as web:
            token = TOKEN.search(web.get(live_central.url + "/login", timeout=10).text)[1]
            return web.post(live_central.url + "/login", data={"csrf_token": token, "name": "admin",
                            "password": password}, headers={"X-Forwarded-For": address},
                            allow_redirects=False, timeout=30).status_code

    codes = []
    with ThreadPoolExecutor(30) as pool:
        for round_ in range(3):
            passwords = ["đoán-sai"] * 30 if round_ < 2 else ["đoán-sai"] * 29 + [STAFF_PASSWORD]
            codes.append(list(pool.map(attempt, passwords, [f"198.51.{round_}.{i}" for i in range(30)])))
    assert sum(c.count(401) for c in codes) == 10 and codes[2] == [429] * 30
    engine = database.engine_for(central_url)
    try:
        row = count_row(engine, "name:admin")
        assert row["failures"] == 10 and parse_utc(row["locked_until"]) > now_utc()
        with engine.connect() as conn:  # each address is its own key: ten of them have one failure
            counts = conn.execute(select(schema.login_attempts.c.failures).where(
                schema.login_attempts.c.key.like("addr:198.51.%"))).scalars().all()
        assert sorted(counts) == [1] * 10
        assert count_row(engine, "addr:127.0.0.1") is None  # the proxy itself is never blamed
    finally:
        engine.dispose()
