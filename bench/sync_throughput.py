"""Sync throughput: pending kiosk responses delivered to central, on SQLite and PostgreSQL.

For each store, in one run:
- end to end: `kiosk-sync --once` sends N pending responses to a real `central run`
  on loopback (batches of KIOSK_SYNC_BATCH, default 5000, gzip, signed);
- reference 1: the same responses sent one per HTTP request (a sample of
  --single of them), as form-collection servers commonly take them;
- reference 2, the ceiling: the same rows inserted straight into the store in
  one transaction, by the same bulk path central uses (``database.bulk_insert``:
  COPY on PostgreSQL, executemany on SQLite).

    .venv/bin/python bench/sync_throughput.py [--responses 100000] [--single 2000] [--stores sqlite,postgresql]
        [--mix typical|uniform] [--repeat 3]

The end to end run and the straight insert are each timed ``--repeat`` times from the same start (a fresh
copy of the kiosk's file, a fresh central store, PostgreSQL's dirty pages written out first by a
CHECKPOINT, so that one run's leftovers do not slow the next), and the median is reported: on a shared
machine one run can be a fifth off either way.

The responses' ratings (``--mix``, see ``bulk_responses`` in tests/helpers.py): "typical" (the default)
has 90% of citizens rate every question 4 or 5, so about 9% of responses open a case; "uniform" draws
every rating 1-5 alike, so 87% open one (a department in crisis: the worst case for central's work).
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
from sqlalchemy import func, select

from kiosk import store
from kiosk.clock import now_utc, utc_iso
from sync import wire
from sync.central import prepare
from sync.central.store import database, schema

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from helpers import bulk_responses  # noqa: E402  (the tests' fast generator of chained responses)

BIN = Path(sys.executable).parent
PG = "postgresql://postgres@127.0.0.1:5432/test"
KIOSK = "bench-kiosk"


class Central:
    def __init__(self, kind, folder):
        self.kind, self.folder, self.schema = kind, folder, None
        if kind == "sqlite":
            self.url = f"sqlite:///{folder}/central-{uuid.uuid4().hex[:6]}.db"
            self.env = {"CENTRAL_DB": self.url.removeprefix("sqlite:///")}
        else:
            import psycopg
            self.schema = f"bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {self.schema}")
                conn.execute("CHECKPOINT")  # a quiet start: what earlier runs left dirty is written out now
            self.url = f"{PG}?options=-csearch_path%3D{self.schema}"
            self.env = {"DATABASE_URL": self.url}
        self.env = {**os.environ, **self.env}
        subprocess.run([BIN / "central", "init"], env=self.env, check=True, capture_output=True)
        self.secret = subprocess.run([BIN / "central", "add-kiosk", KIOSK, "--unit", "Bench"], env=self.env,
                                     check=True, capture_output=True, text=True).stdout.strip()
        self.process = None

    def start(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.process = subprocess.Popen([BIN / "central", "run", "--port", str(port)], env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.http = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                requests.get(self.http + "/healthz", timeout=1)
                return self
            except requests.ConnectionError:
                time.sleep(0.05)
        raise SystemExit("central did not start")

    def stored(self):
        engine = database.engine_for(self.url)
        with engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(schema.responses)).scalar()
        engine.dispose()
        return count

    def close(self):
        if self.process:
            self.process.terminate()
            self.process.wait()
        if self.schema:
            import psycopg
            with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {self.schema} CASCADE")


def end_to_end(kind, folder, pending_db, count):
    """Responses per second of `kiosk-sync --once` delivering a copy of `pending_db`'s `count` pending ones."""
    kiosk_db = Path(folder) / "kiosk-run.db"
    shutil.copyfile(pending_db, kiosk_db)  # each run starts with every response pending
    central = Central(kind, folder).start()
    try:
        env = {**os.environ, "KIOSK_DB": str(kiosk_db), "KIOSK_ID": KIOSK, "KIOSK_SECRET": central.secret,
               "CENTRAL_URL": central.http}
        started = time.perf_counter()
        subprocess.run([BIN / "kiosk-sync", "--once"], env=env, check=True, capture_output=True)
        elapsed = time.perf_counter() - started
        assert central.stored() == count
        return count / elapsed
    finally:
        central.close()


def one_per_request(kind, folder, responses):
    central = Central(kind, folder).start()
    session = requests.Session()
    try:
        started = time.perf_counter()
        for response in responses:
            body = json.dumps(wire.batch(KIOSK, [response]), ensure_ascii=False).encode("utf-8")
            stamp = str(int(time.time()))
            reply = session.post(central.http + "/api/v1/batches", data=body, headers={
                "Content-Type": "application/json", wire.KIOSK_HEADER: KIOSK, wire.TIMESTAMP_HEADER: stamp,
                wire.SIGNATURE_HEADER: wire.sign(central.secret, stamp, body)})
            assert reply.status_code == 200
        return len(responses) / (time.perf_counter() - started)
    finally:
        central.close()


def ceiling(kind, folder, responses, insert=database.bulk_insert):
    """Rows per second of a straight insert of the responses' rows in one transaction, by ``insert``
    (default central's own bulk path: COPY on PostgreSQL, executemany on SQLite)."""
    central = Central(kind, folder)
    engine = database.engine_for(central.url)
    kiosk = {"kiosk_id": KIOSK, "unit": "Bench"}
    try:
        received = utc_iso(now_utc())
        rows = [prepare.row(r, kiosk["unit"], "00000000-0000-4000-8000-000000000000", received) for r in responses]
        started = time.perf_counter()
        with database.write(engine) as conn:
            insert(conn, schema.responses, rows)
        return len(rows) / (time.perf_counter() - started)
    finally:
        engine.dispose()
        central.close()


def executemany_insert(conn, table, rows):
    """The straight insert before issue 11 on PostgreSQL too: INSERT … VALUES by the driver's executemany."""
    columns = list(rows[0])
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
                         [tuple(row[c] for c in columns) for row in rows])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=2000)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--mix", default="typical", choices=("typical", "uniform"))
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each, the median reported")
    args = parser.parse_args()
    from kiosk import outbox

    load_before = os.getloadavg()[0]
    print(f"Sync throughput, {args.responses:,} pending responses ({args.mix} ratings), loopback, "
          f"responses per second:")
    print("| store | end to end (kiosk-sync) | one per HTTP request | straight insert, one transaction "
          "| end to end ÷ one per request | end to end ÷ straight insert |")
    print("|---|---|---|---|---|---|")
    notes = []
    for kind in args.stores.split(","):
        with tempfile.TemporaryDirectory() as folder:
            kiosk_db = Path(folder) / "kiosk.db"
            bulk_responses(kiosk_db, args.responses, KIOSK, mix=args.mix)
            with store.connect(kiosk_db) as db:
                responses = outbox.pending(db, args.responses)
            single = one_per_request(kind, folder, responses[:args.single])
            e2e_runs, top_runs = [], []
            for _ in range(args.repeat):  # alternated, so a slow spell of the machine touches both alike
                e2e_runs.append(end_to_end(kind, folder, kiosk_db, args.responses))
                top_runs.append(ceiling(kind, folder, responses))
            e2e, top = statistics.median(e2e_runs), statistics.median(top_runs)
            notes.append(f"{kind}: end to end runs {', '.join(f'{r:,.0f}' for r in e2e_runs)}/s; straight insert "
                         f"runs {', '.join(f'{r:,.0f}' for r in top_runs)}/s")
            if kind == "postgresql":
                plain = ceiling(kind, folder, responses, executemany_insert)
                notes.append(f"{kind}: the same rows by executemany INSERT instead of COPY: {plain:,.0f}/s; "
                             f"end to end ÷ that: {100 * e2e / plain:.0f}%")
        print(f"| {kind} | {e2e:,.0f} | {single:,.0f} | {top:,.0f} | {e2e / single:.0f}× | {100 * e2e / top:.0f}% |",
              flush=True)
    for note in notes:
        print(f"\n{note}")
    print(f"\n(machine load, 1-minute average, on {os.cpu_count()} CPUs: {load_before:.1f} at the start, "
          f"{os.getloadavg()[0]:.1f} at the end)")


if __name__ == "__main__":
    main()
