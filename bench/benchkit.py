"""What the benchmarks share: a store to fill (SQLite file or a fresh PostgreSQL schema), a real
`central run` on loopback, a signed-in staff session and percentiles. Imported by the bench scripts
(run as ``python bench/NAME.py``, so this folder is on the path)."""

import re
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import requests

BIN = Path(sys.executable).parent
PG = "postgresql://postgres@127.0.0.1:5432/test"
PG_CONNINFO = "host=127.0.0.1 user=postgres dbname=test"
PASSWORD = "bench-password-1"


def percentile(values, share):
    """The `share` (0..1) percentile of `values` by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def store_for(kind, folder, prefix="bench"):
    """(url, environment for `central`, PostgreSQL schema or None): a SQLite file in `folder`, or a new
    schema in the local PostgreSQL's `test` database (drop it with ``drop_schema``)."""
    if kind == "sqlite":
        url = f"sqlite:///{folder}/central.db"
        return url, {"CENTRAL_DB": url.removeprefix("sqlite:///")}, None
    import psycopg
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_CONNINFO, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    url = f"{PG}?options=-csearch_path%3D{name}"
    return url, {"DATABASE_URL": url}, name


def drop_schema(name):
    """Drop a schema ``store_for`` made (nothing for None)."""
    if name:
        import psycopg
        with psycopg.connect(PG_CONNINFO, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")


def start_server(env):
    """A `central run` on a free loopback port with `env`, once it answers: (process, base URL)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([BIN / "central", "run", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(base + "/healthz", timeout=2)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    return server, base


def logged_in(base, name):
    """A requests session signed in to central's staff pages as `name` (password PASSWORD)."""
    session = requests.Session()
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', session.get(base + "/login").text)[1]
    session.post(base + "/login", data={"csrf_token": token, "name": name, "password": PASSWORD})
    return session


def queue_filters(today, unit="Đơn vị 07", officer="cb-07-1") -> dict:
    """{name: query parameters} of the case queue's first page with no filter and with each filter alone
    (`today` a date; `unit` and `officer` (a roster id) what the unit and officer filters keep)."""
    month_ago = (today - timedelta(days=30)).isoformat()
    return {"no filter": {}, "status=open": {"status": "open"}, "status=closed": {"status": "closed"},
            "overdue=1": {"overdue": "1"}, "due=today": {"due": "today"}, "unit": {"unit": unit},
            "officer": {"officer": officer}, "channel=kiosk": {"channel": "kiosk"},
            "channel=hotline": {"channel": "hotline"}, "category": {"category": "2"},
            "reason=impolite (a chip)": {"reason": "impolite"}, "reason=extra_request": {"reason": "extra_request"},
            "from..to (30 days)": {"from": month_ago, "to": today.isoformat()}, "page=40": {"page": "40"}}
