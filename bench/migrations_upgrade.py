"""Upgrading a central store that holds many responses: each migration step's time.

Makes a store at step 0002 (SQLite, PostgreSQL or both), fills it with --responses responses from 5
kiosks of 2 units over 90 days (10% commented, 2% flagged, a third tied to a dossier), then applies
every later step one at a time (0003 opens their cases, 0004 builds the day tallies, 0006 rebuilds
``responses`` on SQLite, ...) and prints each step's seconds.

    .venv/bin/python bench/migrations_upgrade.py [--responses 100000] [--stores sqlite,postgresql]
"""

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import table, text

from sync.central.store import database, migrations

PG = "postgresql://postgres@127.0.0.1:5432/test"
FIRST = "0002_accounts"


def fill(engine, count: int) -> None:
    rng = random.Random(1)
    with database.write(engine) as conn:
        for k in range(5):
            conn.execute(text("INSERT INTO kiosks (kiosk_id, unit, secret, created_utc) VALUES (:k, :u, :s, :t)"),
                         {"k": f"k{k}", "u": f"Sở {k % 2}", "s": "5e" * 32, "t": "2026-01-01T00:00:00.000Z"})
        rows = []
        for i in range(count):
            answers = {"overall": rng.randint(1, 5), "guidance": rng.randint(1, 5),
                       "timeliness": rng.choice([1, 4, 5, "na"]), "extra_request": rng.choice(["yes"] + ["no"] * 3),
                       "visits": rng.choice(["1", "2"])}
            day = 1 + i % 90
            rows.append({"uuid": str(uuid.UUID(int=i + 1)), "kiosk_id": f"k{i % 5}", "unit": f"Sở {i % 5 % 2}",
                         "seq": i // 5 + 1, "local_day": f"2026-{1 + (day - 1) // 30:02d}-{1 + (day - 1) % 30:02d}",
                         "started_utc": "2026-01-01T00:00:00.000Z", "created_utc": "2026-01-01T00:00:20.000Z",
                         "utc_offset_minutes": 420, "received_utc": "2026-01-01T00:01:00.000Z",
                         "questionnaire_version": "2025.1", "counter": f"Quầy {i % 3}", "officer": f"Cán bộ {i % 4}",
                         "dossier_code": f"D{i}" if i % 3 == 0 else None, "answers": json.dumps(answers),
                         "reasons": "[]", "complete": 1, "flags": '["too_fast"]' if i % 50 == 0 else "[]",
                         "comment_hash": "ab" * 32 if i % 10 == 0 else None, "contact_hash": None,
                         "prev_hash": "0" * 64, "hash": "1" * 64, "batch_id": "b"})
        database.bulk_insert(conn, table("responses"), rows)


def run(url: str, count: int) -> None:
    engine = database.engine_for(url)
    try:
        migrations.migrate(engine, upto=FIRST)
        fill(engine, count)
        total = 0.0
        for name in migrations.STEPS[migrations.STEPS.index(FIRST) + 1:]:
            start = time.perf_counter()
            migrations.migrate(engine, upto=name)
            total += (spent := time.perf_counter() - start)
            print(f"  {name:<28} {spent:7.2f} s")
        print(f"  {'every step':<28} {total:7.2f} s for {count:,} responses")
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    for store in args.stores.split(","):
        print(store)
        if store == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                run(f"sqlite:///{Path(folder) / 'central.db'}", args.responses)
            continue
        import psycopg
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        try:
            run(f"{PG}?options=-csearch_path%3D{schema}", args.responses)
        finally:
            with psycopg.connect(PG, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    sys.exit(main())
