"""The daily summary page and /api/v1/summary over a large central store.

Fills a fresh central store (SQLite, PostgreSQL or both) with --responses
responses from --kiosks kiosks (10 per unit) spread over --days days, with the
cases they open, then serves it with `central run` and times, over --samples
random days: the admin's summary page (every unit, with the day-before and
week-before comparisons), `/api/v1/summary`, and a plain GROUP BY of the same
day straight on the store. Prints p50 and p95 in milliseconds.

    .venv/bin/python bench/summary_scale.py [--responses 10000000] [--stores sqlite,postgresql]
"""

import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import requests
from sqlalchemy import text

from kiosk.clock import LOCAL_TZ, utc_iso
from sync import central_store as cs
from sync.cases import why

BIN = Path(sys.executable).parent
PG = "postgresql://postgres@127.0.0.1:5432/test"
HASH = "0" * 64
CHUNK = 50_000


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def fill(engine, count, kiosks, days, first_day):
    rng = random.Random(2026)
    with cs.write(engine) as conn:
        conn.execute(cs.kiosks.insert(), [{"kiosk_id": f"k{i:03d}", "unit": f"Đơn vị {i // 10:02d}",
                                           "secret": HASH, "created_utc": "2024-01-01T00:00:00.000Z",
                                           "last_batch_utc": utc_iso(datetime.now(timezone.utc))}
                                          for i in range(kiosks)])
    seqs = [0] * kiosks
    next_id = 1
    for chunk_start in range(0, count, CHUNK):
        rows, opened = [], []
        for i in range(chunk_start, min(count, chunk_start + CHUNK)):
            k = i % kiosks
            seqs[k] += 1
            day = first_day + timedelta(days=i * days // count)
            moment = datetime(day.year, day.month, day.day, 1 + rng.randrange(9), rng.randrange(60),
                              tzinfo=timezone.utc)
            answers = {"overall": rng.choice((1, 2, 3, 4, 4, 5, 5, 5)), "guidance": rng.choice((2, 3, 4, 5, 5)),
                       "attitude": rng.choice((1, 3, 4, 5, 5, 5)), "fairness": rng.choice((3, 4, 5)),
                       "extra_request": rng.choice(("no",) * 19 + ("yes",)), "visits": rng.choice(("1", "1", "2"))}
            comment = rng.random() < 0.05
            rows.append({"uuid": str(uuid.UUID(int=i + 1)), "kiosk_id": f"k{k:03d}", "unit": f"Đơn vị {k // 10:02d}",
                         "seq": seqs[k], "local_day": moment.astimezone(LOCAL_TZ).date().isoformat(),
                         "started_utc": utc_iso(moment), "created_utc": utc_iso(moment), "utc_offset_minutes": 420,
                         "received_utc": utc_iso(moment), "questionnaire_version": "2025.1",
                         "counter": str(k % 10 + 1), "officer": f"Cán bộ {k:03d}-{rng.randrange(3)}",
                         "dossier_code": None, "answers": json.dumps(answers), "reasons": "[]",
                         "complete": 1, "flags": '["too_fast"]' if rng.random() < 0.03 else "[]",
                         "comment_hash": HASH if comment else None, "contact_hash": None,
                         "prev_hash": HASH, "hash": HASH, "batch_id": "00000000-0000-4000-8000-000000000000"})
            if why(answers, comment):
                opened.append({"response_id": next_id, "unit": rows[-1]["unit"], "kiosk_id": rows[-1]["kiosk_id"],
                               "officer": rows[-1]["officer"], "why": ",".join(why(answers, comment)),
                               "status": "new", "opened_utc": rows[-1]["received_utc"],
                               "updated_utc": rows[-1]["received_utc"]})
            next_id += 1
        with cs.write(engine) as conn:
            cs.bulk_insert(conn, cs.responses, rows)
            cs.bulk_insert(conn, cs.cases, opened)
        print(f"  filled {min(count, chunk_start + CHUNK):,}", end="\r", file=sys.stderr, flush=True)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")


def measure(kind, args, folder):
    schema = None
    if kind == "sqlite":
        url = f"sqlite:///{folder}/central.db"
        env = {"CENTRAL_DB": url.removeprefix("sqlite:///")}
    else:
        import psycopg
        schema = f"scale_{uuid.uuid4().hex[:8]}"
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        url = f"{PG}?options=-csearch_path%3D{schema}"
        env = {"DATABASE_URL": url}
    env = {**os.environ, **env}
    engine = cs.engine_for(url)
    try:
        cs.migrate(engine)
        first_day = date.today() - timedelta(days=args.days)
        started = time.perf_counter()
        fill(engine, args.responses, args.kiosks, args.days, first_day)
        print(f"  {kind}: filled {args.responses:,} responses in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
        cs.add_user(engine, "bench", "admin", None, "bench-password-1")
        token = cs.add_token(engine, "bench")
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
        session = requests.Session()
        token_field = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', session.get(base + "/login").text)[1]
        session.post(base + "/login", data={"csrf_token": token_field, "name": "bench", "password": "bench-password-1"})
        rng = random.Random(1)
        days = [(first_day + timedelta(days=rng.randrange(7, args.days))).isoformat() for _ in range(args.samples)]
        page, api, scan = [], [], []
        try:
            for day in days:
                t = time.perf_counter()
                reply = session.get(base + "/", params={"date": day})
                page.append((time.perf_counter() - t) * 1000)
                assert reply.status_code == 200 and "Tổng hợp ngày" in reply.text
                t = time.perf_counter()
                reply = requests.get(base + "/api/v1/summary", params={"date": day},
                                     headers={"Authorization": f"Bearer {token}"})
                api.append((time.perf_counter() - t) * 1000)
                assert reply.json()["responses"] > 0
                t = time.perf_counter()
                with engine.connect() as conn:
                    conn.execute(text("SELECT unit, count(*) FROM responses WHERE local_day = :d GROUP BY unit"),
                                 {"d": day}).all()
                scan.append((time.perf_counter() - t) * 1000)
        finally:
            server.terminate()
            server.wait()
        return [(name, percentile(v, .5), percentile(v, .95)) for name, v in
                (("summary page (admin, all units)", page), ("/api/v1/summary", api), ("plain GROUP BY of the day", scan))]
    finally:
        engine.dispose()
        if schema:
            import psycopg
            with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=10_000_000)
    parser.add_argument("--kiosks", type=int, default=200)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"Daily summary over {args.responses:,} responses from {args.kiosks} kiosks across {args.days} days "
          f"(about {args.responses // args.days:,} a day), {args.samples} random days, milliseconds:")
    print("| store | what | p50 | p95 |")
    print("|---|---|---|---|")
    for kind in args.stores.split(","):
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as folder:
            for name, p50, p95 in measure(kind, args, folder):
                print(f"| {kind} | {name} | {p50:.0f} | {p95:.0f} |", flush=True)


if __name__ == "__main__":
    main()
