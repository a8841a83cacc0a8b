"""The QĐ 766 PAKN ratios (``sync.central.store.pakn.pakn_ratios``) over a large store of cases.

Fills a fresh central store with --cases cases over a year (written in day order, as central writes them;
4 in 9 from the kiosks, the rest from the other channels, 10 units, 80% closed within 0-19 days), then
times the ratios for one day of every unit, one month of every unit and one month of one unit. Prints p50
and p95 in milliseconds.

    .venv/bin/python bench/pakn_ratios.py [--cases 200000] [--stores sqlite,postgresql]
"""

import argparse
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sync.central.store import database, migrations  # noqa: E402
from sync.central.store import pakn as pakn_store  # noqa: E402
from sync.central.store.schema import cases, pakn  # noqa: E402

PG = "host=127.0.0.1 port=5432 user=postgres dbname=test"


def fill(engine, count):
    rng, start = random.Random(1), date(2026, 1, 1)
    days = sorted(start + timedelta(days=rng.randrange(365)) for _ in range(count))
    rows, details = [], []
    for number, day in enumerate(days, 1):
        channel = rng.choice(["kiosk"] * 4 + ["hotline", "email", "box", "portal", "in_person"])
        closed = rng.random() < 0.8
        stamp = day.isoformat() + "T02:00:00.000Z"
        rows.append({"id": number, "local_day": day.isoformat(), "unit": f"Unit {rng.randrange(10)}",
                     "kiosk_id": "k" if channel == "kiosk" else "", "channel": channel,
                     "why": rng.choice(["comment", "low_rating", "comment,low_rating"]) if channel == "kiosk"
                     else "pakn", "status": "closed" if closed else "new", "opened_utc": stamp,
                     "updated_utc": stamp, "started_utc": stamp,
                     "closed_utc": f"{day + timedelta(days=rng.randrange(20))}T{rng.randrange(24):02d}:00:00.000Z"
                     if closed else None,
                     "category": None if channel == "kiosk" else rng.choice(["officers", "results", "procedures"]),
                     "satisfied": rng.choice(["yes", "no", "unsaid", None]), "complained_again": 0})
        if channel != "kiosk":
            details.append({"case_id": number, "content": "x", "within_competence": int(rng.random() < 0.95),
                            "transferred_to": None, "registered_by": "bench"})
    with engine.begin() as conn:
        for at in range(0, len(rows), 20_000):
            conn.execute(insert(cases), rows[at:at + 20_000])
        for at in range(0, len(details), 20_000):
            conn.execute(insert(pakn), details[at:at + 20_000])


def timed(engine, samples):
    for label, unit, first, last in [("one day, every unit", None, date(2026, 6, 10), date(2026, 6, 10)),
                                     ("one month, every unit", None, date(2026, 6, 1), date(2026, 6, 30)),
                                     ("one month, one unit", "Unit 3", date(2026, 6, 1), date(2026, 6, 30))]:
        times = []
        for _ in range(samples):
            began = time.perf_counter()
            ratios = pakn_store.pakn_ratios(engine, unit, first, last)
            times.append((time.perf_counter() - began) * 1000)
        times.sort()
        print(f"  {label:<24} {ratios['pakn']:>6} PAKN  p50 {times[len(times) // 2]:6.1f} ms  "
              f"p95 {times[int(len(times) * 0.95) - 1]:6.1f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    for store in args.stores.split(","):
        if store == "sqlite":
            folder = tempfile.TemporaryDirectory()
            url = f"sqlite:///{folder.name}/central.db"
        else:
            import psycopg
            with psycopg.connect(PG, autocommit=True) as conn:
                conn.execute("DROP SCHEMA IF EXISTS bench_pakn CASCADE")
                conn.execute("CREATE SCHEMA bench_pakn")
            url = "postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench_pakn"
        engine = database.engine_for(url)
        migrations.migrate(engine)
        fill(engine, args.cases)
        print(f"{store}: {args.cases} cases")
        timed(engine, args.samples)
        engine.dispose()
        if store != "sqlite":
            with psycopg.connect(PG, autocommit=True) as conn:
                conn.execute("DROP SCHEMA bench_pakn CASCADE")


if __name__ == "__main__":
    main()
