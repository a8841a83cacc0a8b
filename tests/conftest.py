"""Shared fixtures: a fresh kiosk database per test, the app, a real server, a real browser."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from helpers import SITE_OFFICERS, STAFF_PASSWORD, UNIT, add_responses, map_officer_names, post, wire_responses
from kiosk import config as kiosk_config
from kiosk import create_app, store
from sync import wire
from sync.central.store import accounts

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "test-output"
CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Tests never see the developer's own kiosk settings."""
    for name in list(os.environ):
        if name.startswith(("KIOSK_", "CENTRAL_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)


@pytest.fixture
def kiosk_env(tmp_path):
    return {"KIOSK_DB": str(tmp_path / "kiosk.db"), "KIOSK_ID": "test-kiosk"}


@pytest.fixture
def make_app(kiosk_env):
    """Build a kiosk app on a fresh database; keyword arguments override settings."""

    def factory(env=None, **overrides):
        environ = {**kiosk_env, **(env or {})}
        store.init(Path(environ["KIOSK_DB"]), environ["KIOSK_ID"])
        app = create_app(kiosk_config.load(environ), TESTING=True, **overrides)
        return app

    return factory


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    database = store.connect(app.config["KIOSK"].db_path)
    yield database
    database.close()


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(server, name, seconds=20):
    """Wait for a server process's /healthz; fail naming it if it exits or stays silent."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {server.process.returncode}")
        try:
            if requests.get(server.url + "/healthz", timeout=1).ok:
                return server
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer /healthz within {seconds} s")


class LiveKiosk:
    """A real `kiosk run` process on loopback."""

    def __init__(self, env: dict, port: int):
        self.env = {**os.environ, **env}
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.db_path = Path(env["KIOSK_DB"])
        self.process = None

    def cli(self, *args, input=None):
        return subprocess.run([sys.executable, "-m", "kiosk", *args], env=self.env, input=input,
                              capture_output=True, text=True, timeout=60)

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "run", "--port", str(self.port)], env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return wait_until_healthy(self, "kiosk run")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process and self.process.stdout:
            self.process.stdout.close()


@pytest.fixture
def live_kiosk(kiosk_env):
    """Start a kiosk server; pass extra settings as keyword arguments."""
    started = []

    def start(**env):
        # A new screen ignores taps for KIOSK_SETTLE_MS; a short one keeps the browser
        # tests quick (they wait for it, see `settled`), tests of the guard set their own.
        env.setdefault("KIOSK_SETTLE_MS", "200")
        kiosk = LiveKiosk({**kiosk_env, **env}, free_port())
        result = kiosk.cli("init")
        assert result.returncode == 0, result.stderr
        assert kiosk.cli("set-pin", input="2468\n").returncode == 0
        started.append(kiosk)
        return kiosk.start()

    yield start
    for kiosk in started:
        kiosk.stop()


def chromium_missing_reason():
    if shutil.which(CHROMIUM) is None:
        return f"Debian Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = chromium_missing_reason()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshots():
    folder = OUTPUT / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- central: the same tests on SQLite and on PostgreSQL --------------------------

PG_CONNINFO = "host=127.0.0.1 port=5432 user=postgres dbname=test"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_missing_reason():
    try:
        import psycopg
        psycopg.connect(PG_CONNINFO, connect_timeout=3).close()
    except Exception as error:  # any failure means: no usable server here
        return f"PostgreSQL is not reachable at 127.0.0.1:5432 ({type(error).__name__})"
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def central_url(request, tmp_path):
    """A fresh, empty central store: a SQLite file, or a new PostgreSQL schema."""
    yield from _empty_store(request.param, tmp_path / "central.db")


@pytest.fixture
def other_central_url(central_url, tmp_path):
    """A second fresh, empty central store of the same kind as ``central_url`` (to compare two stores)."""
    yield from _empty_store("sqlite" if central_url.startswith("sqlite") else "postgresql", tmp_path / "other.db")


def _empty_store(kind, sqlite_path):
    if kind == "sqlite":
        yield f"sqlite:///{sqlite_path}"
        return
    reason = postgres_missing_reason()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    import uuid

    import psycopg
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_CONNINFO, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with psycopg.connect(PG_CONNINFO, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


#: For central tests whose subject does not depend on the store (redirects, headers, forms): SQLite only.
sqlite_only = pytest.mark.parametrize("central_url", ["sqlite"], indirect=True)


def central_env_for(url: str) -> dict:
    if url.startswith("sqlite:///"):
        return {"CENTRAL_DB": url.removeprefix("sqlite:///")}
    return {"DATABASE_URL": url}


@pytest.fixture
def central_engine(central_url):
    from sync.central.store import database, migrations
    engine = database.engine_for(central_url)
    migrations.migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def central_env(central_url, central_engine):
    """The environment a `central` command needs for the (migrated) store of ``central_engine``."""
    return central_env_for(central_url)


@pytest.fixture
def kiosk_secret(central_engine):
    """Kiosk "test-kiosk" registered in central for UNIT; its secret."""
    return accounts.add_kiosk(central_engine, "test-kiosk", UNIT)


@pytest.fixture
def central_client(central_app):
    """A Flask test client of central."""
    return central_app.test_client()


@pytest.fixture
def central_app(central_url, central_engine):
    from sync.central import app as central
    from sync.central.config import load
    app = central.create_app(load(central_env_for(central_url)), central_engine)
    app.config["TESTING"] = True
    return app


class LiveCentral:
    """A real `central run` process on loopback, with its CLI."""

    def __init__(self, url: str, port: int):
        self.env = {**os.environ, **central_env_for(url)}
        self.port, self.url = port, f"http://127.0.0.1:{port}"
        self.process = None

    def cli(self, *args):
        return subprocess.run([str(Path(sys.executable).parent / "central"), *args], env=self.env,
                              capture_output=True, text=True, timeout=60)

    def cli_input(self, *args, input):
        return subprocess.run([str(Path(sys.executable).parent / "central"), *args], env=self.env,
                              input=input, capture_output=True, text=True, timeout=60)

    def start(self):
        self.process = subprocess.Popen([str(Path(sys.executable).parent / "central"), "run",
                                         "--port", str(self.port)], env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return wait_until_healthy(self, "central run")

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def live_central(central_url):
    """A central server (not yet started) with one kiosk and one API token registered."""
    central = LiveCentral(central_url, free_port())
    assert central.cli("init").returncode == 0
    added = central.cli("add-kiosk", "test-kiosk", "--unit", UNIT)
    assert added.returncode == 0, added.stderr
    central.secret = added.stdout.strip()
    central.token = central.cli("add-token", "tests").stdout.strip()
    yield central
    central.stop()


@pytest.fixture
def central_without_max_responses(live_central):
    """A real central (started) that takes at most 6 responses a batch, seen by the kiosk as a central from
    before ``max_responses``: on loopback its 413 answers lose that field (and are signed again with the
    kiosk's secret, as that central signed them); everything else passes unchanged. An object with ``url``,
    ``secret`` and ``stripped`` (how many 413 answers lost the field)."""
    import gzip
    import json
    from types import SimpleNamespace

    from loopback_proxy import AnswerRewriter

    live_central.env["CENTRAL_MAX_BATCH"] = "6"
    live_central.start()
    older = SimpleNamespace(secret=live_central.secret, stripped=0)

    def rewrite(request_body, status, headers, answer):
        if status != 413:
            return status, headers, answer
        body = json.loads(answer)
        if body.pop("max_responses", None) is not None:
            older.stripped += 1
        answer = json.dumps(body, ensure_ascii=False).encode()
        batch_id = json.loads(gzip.decompress(request_body))["batch_id"]
        headers = {k: v for k, v in headers.items() if k.lower() != wire.CENTRAL_SIGNATURE_HEADER.lower()}
        headers[wire.CENTRAL_SIGNATURE_HEADER] = wire.sign_answer(older.secret, batch_id, answer)
        return status, headers, answer

    proxy = AnswerRewriter(live_central.url, rewrite)
    older.url = proxy.url
    yield older
    proxy.close()


def kiosk_sync(env: dict, *args, timeout=60):
    return subprocess.run([str(Path(sys.executable).parent / "kiosk-sync"), *args],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def login_app(central_app, central_engine):
    """Central with two staff accounts (admin, and sup-a of Unit A), both with STAFF_PASSWORD."""
    from sync.central.store import accounts
    accounts.add_user(central_engine, "admin", "admin", None, STAFF_PASSWORD)
    accounts.add_user(central_engine, "sup-a", "supervisor", "Unit A", STAFF_PASSWORD)
    return central_app


class FillableDisk:
    """A real, small file system for the kiosk's database that can be filled and freed.

    As root: a 4 MB tmpfs mounted under the test's folder, filled with a file of
    zeros until the kernel says "no space left". Otherwise: the folder and the
    database made read-only (the write fails the same way for SQLite).
    """

    def __init__(self, folder: Path):
        self.path = folder
        self.path.mkdir()
        self.mounted = False
        if os.geteuid() == 0:
            done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"cannot mount a tmpfs: {done.stderr.strip()}")
            self.mounted = True

    def fill(self):
        if not self.mounted:
            for item in [self.path, *self.path.iterdir()]:
                item.chmod(0o555 if item.is_dir() else 0o444)
            return
        filler = os.open(self.path / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            for size in (65536, 1):  # big blocks, then the last bytes
                try:
                    while True:
                        os.write(filler, b"\0" * size)
                except OSError:
                    pass
        finally:
            os.close(filler)

    def free(self):
        if not self.mounted:
            for item in [self.path, *self.path.iterdir()]:
                item.chmod(0o755 if item.is_dir() else 0o644)
            return
        (self.path / "filler").unlink(missing_ok=True)

    def remove(self):
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.path)], check=False)


@pytest.fixture
def fillable_disk(tmp_path):
    disk = FillableDisk(tmp_path / "disk")
    yield disk
    disk.remove()


@pytest.fixture
def site(central_app, central_engine, tmp_path):
    """Two units with one kiosk each, in the roster with their officers (SITE_OFFICERS: An, Bình of Unit A,
    Chi of Unit B); a day of responses, their officers mapped to roster ids as an upgraded store's are;
    one account per role (officer "an" linked to An's roster entry)."""
    from sync.central.store import roster
    for unit in ("Unit A", "Unit B"):
        roster.add_unit(central_engine, unit, f"{unit} (tên đầy đủ)")
    for name, (officer_id, unit) in SITE_OFFICERS.items():
        roster.add_officer(central_engine, unit, name, officer_id)
    secrets = {"k-a": accounts.add_kiosk(central_engine, "k-a", "Unit A"),
               "k-b": accounts.add_kiosk(central_engine, "k-b", "Unit B")}
    client = central_app.test_client()
    for kiosk, duties in [("k-a", [("An", {"overall": 5, "attitude": 5}), ("Bình", {"overall": 1})]),
                          ("k-b", [("Chi", {"overall": 4})])]:
        path = tmp_path / f"{kiosk}.db"
        store.init(path, kiosk)
        for officer, answers in duties:
            with store.connect(path) as db, store.write(db):
                store.set_setting(db, "officer", officer)
            add_responses(path, 1, kiosk_id=kiosk, answers=answers)
        assert post(client, secrets[kiosk], wire.batch(kiosk, wire_responses(path)), kiosk=kiosk).status_code == 200
    map_officer_names(central_engine)
    client.kiosk_secrets = secrets
    accounts.add_user(central_engine, "admin", "admin", None, STAFF_PASSWORD)
    accounts.add_user(central_engine, "sup-a", "supervisor", "Unit A", STAFF_PASSWORD)
    accounts.add_user(central_engine, "an", "officer", "Unit A", STAFF_PASSWORD, display_name="An",
                      officer_id=SITE_OFFICERS["An"][0])
    return client


@pytest.fixture
def with_complaint(site, tmp_path, central_engine):
    """Officer An at k-a gets a rating of 2 with a comment and a consented phone number."""
    path = tmp_path / "k-a.db"
    with store.connect(path) as db, store.write(db):
        store.set_setting(db, "officer", "An")
    add_responses(path, 1, kiosk_id="k-a", answers={"overall": 2, "attitude": 1},
                  comment="Cán bộ gây khó dễ", phone="0912345678")
    reply = post(site, site.kiosk_secrets["k-a"], wire.batch("k-a", wire_responses(path)), kiosk="k-a")
    assert reply.get_json()["accepted"] == 1
    map_officer_names(central_engine)
    return site


#: The ``old_responses`` fixture's responses: (officer on duty, answers, comment).
OLD_DUTY = [(None, {"overall": 4}, None), ("An", {"overall": 2}, "Chậm"), ("An", {"overall": 5}, "Tốt lắm"),
            ("Bình", {"overall": 1}, None), ("Bình", {"overall": 4}, None), ("Cường", {"overall": 3}, None)]


@pytest.fixture
def old_responses(central_app, central_engine, tmp_path):
    """Responses of UNIT sent before the roster (names only: OLD_DUTY); the roster: An (cb-an), two Bình
    (cb-binh-1, cb-binh-2), no Cường."""
    from sync.central.store import roster
    secret = accounts.add_kiosk(central_engine, "k-1", UNIT)
    path = tmp_path / "k-1.db"
    store.init(path, "k-1")
    for name, answers, comment in OLD_DUTY:
        if name:  # the first response: no officer set on the kiosk yet
            with store.connect(path) as db, store.write(db):
                store.set_setting(db, "officer", name)
        add_responses(path, 1, kiosk_id="k-1", answers=answers, **({"comment": comment} if comment else {}))
    reply = post(central_app.test_client(), secret, wire.batch("k-1", wire_responses(path)), kiosk="k-1")
    assert reply.get_json()["accepted"] == len(OLD_DUTY)
    roster.add_unit(central_engine, UNIT, "Sở")
    roster.add_officer(central_engine, UNIT, "An", "cb-an")
    roster.add_officer(central_engine, UNIT, "Bình", "cb-binh-1")
    roster.add_officer(central_engine, UNIT, "Bình", "cb-binh-2")
    return central_engine


@pytest.fixture
def older_central():
    """A loopback server that answers every POST with 404, as a central from before an endpoint existed:
    an object with ``url`` and ``asked`` (the paths posted to, in order)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from types import SimpleNamespace

    older = SimpleNamespace(asked=[])

    class Older(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            older.asked.append(self.path)
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Older)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    older.url = f"http://127.0.0.1:{server.server_port}"
    yield older
    server.shutdown()
    server.server_close()
