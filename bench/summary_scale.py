"""The daily summary page and /api/v1/summary over a large central store.

Fills a fresh central store (SQLite, PostgreSQL or both) with --responses
responses from --kiosks kiosks (10 per unit, 3 officers each, 3% flagged, 30%
tied to a dossier) spread over --days days, with the cases they open and the
day tallies central keeps as batches arrive. Then serves it with `central run`
and times, over --samples random days: the summary page as an admin (every
unit), a supervisor (one unit, with its counters and officers) and an officer,
each with the day-before and week-before comparisons; `/api/v1/summary` for
every unit and for one kiosk; the 90-day trends page; and a plain GROUP BY of
the same day's responses straight on the store. Prints p50 and p95 in
milliseconds.

    .venv/bin/python bench/summary_scale.py [--responses 10000000] [--stores sqlite,postgresql]

``--keep DIR`` fills the SQLite store in DIR once (DIR/central.db, about 8 GB at
10 million) and reuses it on later runs with the same DIR, so a change to a read
path can be timed again without the fill; ``--only trends`` times only the
measurements whose name contains that word.
"""

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import requests
from benchkit import PASSWORD, drop_schema, logged_in, percentile, start_server, store_for
from sqlalchemy import text

from kiosk.clock import LOCAL_TZ, utc_iso
from sync.central.store import accounts, database, migrations, roster, schema, tallies
from sync.central.cases import why

HASH = "0" * 64
CHUNK = 50_000




def fill(engine, count, kiosks, days, first_day):
    rng = random.Random(2026)
    with database.write(engine) as conn:
        conn.execute(schema.kiosks.insert(), [{"kiosk_id": f"k{i:03d}", "unit": f"Đơn vị {i // 10:02d}",
                                           "secret": HASH, "created_utc": "2024-01-01T00:00:00.000Z",
                                           "last_batch_utc": utc_iso(datetime.now(timezone.utc))}
                                          for i in range(kiosks)])
    seqs = [0] * kiosks
    next_id = 1
    for chunk_start in range(0, count, CHUNK):
        rows, tallied, opened = [], [], []
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
            flags = ["too_fast"] if rng.random() < 0.03 else []
            dossier = f"H{k:03d}.{i // kiosks:06d}" if rng.random() < 0.3 else None
            on_duty = rng.randrange(3)  # the officer: by name and by roster id (issue 13)
            rows.append({"uuid": str(uuid.UUID(int=i + 1)), "kiosk_id": f"k{k:03d}", "unit": f"Đơn vị {k // 10:02d}",
                         "seq": seqs[k], "local_day": moment.astimezone(LOCAL_TZ).date().isoformat(),
                         "started_utc": utc_iso(moment), "created_utc": utc_iso(moment), "utc_offset_minutes": 420,
                         "received_utc": utc_iso(moment), "questionnaire_version": "2025.1",
                         "counter": str(k % 10 + 1), "officer": f"Cán bộ {k:03d}-{on_duty}",
                         "officer_id": f"cb-{k:03d}-{on_duty}", "counter_id": f"Q{k:03d}-{k % 10 + 1}",
                         "dossier_code": dossier, "answers": json.dumps(answers), "reasons": "[]",
                         "complete": 1, "flags": json.dumps(flags),
                         "comment_hash": HASH if comment else None, "contact_hash": None,
                         "prev_hash": HASH, "hash": HASH, "batch_id": "00000000-0000-4000-8000-000000000000"})
            tallied.append({**rows[-1], "answers": answers, "reasons": [], "flags": flags, "has_comment": comment})
            if why(answers, comment):
                opened.append({"response_id": next_id, "local_day": rows[-1]["local_day"],
                               "unit": rows[-1]["unit"], "kiosk_id": rows[-1]["kiosk_id"],
                               "officer": rows[-1]["officer"], "officer_id": rows[-1]["officer_id"],
                               "why": ",".join(why(answers, comment)),
                               "status": "new", "opened_utc": rows[-1]["received_utc"],
                               "updated_utc": rows[-1]["received_utc"], "started_utc": rows[-1]["created_utc"]})
            next_id += 1
        with database.write(engine) as conn:
            database.bulk_insert(conn, schema.responses, rows)
            database.bulk_insert(conn, schema.cases, opened)
            tallies.add_tallies(conn, tallied)
        print(f"  filled {min(count, chunk_start + CHUNK):,}", end="\r", file=sys.stderr, flush=True)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")




def measure(kind, args, folder):
    schema = None
    reused = False
    if kind == "sqlite":
        url = f"sqlite:///{folder}/central.db"
        env = {"CENTRAL_DB": url.removeprefix("sqlite:///")}
        reused = args.keep is not None and (Path(folder) / "filled").exists()
    else:
        url, env, schema = store_for(kind, folder, "scale")
    env = {**os.environ, **env}
    engine = database.engine_for(url)
    try:
        unit = "Đơn vị 07"
        if reused:
            first_day = date.fromisoformat((Path(folder) / "filled").read_text().split()[0])
            token = (Path(folder) / "filled").read_text().split()[1]
        else:
            migrations.migrate(engine)
            first_day = date.today() - timedelta(days=args.days)
            started = time.perf_counter()
            fill(engine, args.responses, args.kiosks, args.days, first_day)
            print(f"  {kind}: filled {args.responses:,} responses in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr)
            accounts.add_user(engine, "admin", "admin", None, PASSWORD)
            accounts.add_user(engine, "supervisor", "supervisor", unit, PASSWORD)
            roster.add_unit(engine, unit, unit)
            roster.add_officer(engine, unit, "Cán bộ 070-1", "cb-070-1")
            accounts.add_user(engine, "officer", "officer", unit, PASSWORD, officer_id="cb-070-1")
            token = accounts.add_token(engine, "bench")
            if kind == "sqlite" and args.keep is not None:
                (Path(folder) / "filled").write_text(f"{first_day.isoformat()} {token}\n")
        server, base = start_server(env)
        sessions = {name: logged_in(base, name) for name in ("admin", "supervisor", "officer")}
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {token}"

        def page(name, **params):
            reply = sessions[name].get(base + "/", params=params)
            assert reply.status_code == 200 and "Tổng hợp ngày" in reply.text

        def trends(name):
            assert sessions[name].get(base + "/trends", params={"days": "90"}).status_code == 200

        def summary_api(**params):
            assert api.get(base + "/api/v1/summary", params=params).json()["responses"] > 0

        def plain_group_by(date):
            with engine.connect() as conn:
                conn.execute(text("SELECT unit, count(*) FROM responses WHERE local_day = :d GROUP BY unit"),
                             {"d": date}).all()

        timed = {
            "summary page, admin, every unit": lambda day: page("admin", date=day),
            f"summary page, supervisor, {unit} (counters and officers)": lambda day: page("supervisor", date=day),
            "summary page, officer": lambda day: page("officer", date=day),
            "trends page, admin, every unit, 90 days": lambda day: trends("admin"),
            "/api/v1/summary, every unit": lambda day: summary_api(date=day),
            "/api/v1/summary, one kiosk": lambda day: summary_api(date=day, kiosk="k070"),
            "plain GROUP BY of the day's responses": plain_group_by,
        }
        timed = {name: measured for name, measured in timed.items() if not args.only or args.only in name}
        rng = random.Random(1)
        days = [(first_day + timedelta(days=rng.randrange(7, args.days))).isoformat() for _ in range(args.samples)]
        times = {name: [] for name in timed}
        try:
            for day in days:
                for name, measured in timed.items():
                    started = time.perf_counter()
                    measured(day)
                    times[name].append((time.perf_counter() - started) * 1000)
        finally:
            server.terminate()
            server.wait()
        return [(name, percentile(v, .5), percentile(v, .95)) for name, v in times.items()]
    finally:
        engine.dispose()
        drop_schema(schema)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=10_000_000)
    parser.add_argument("--kiosks", type=int, default=200)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--keep", metavar="DIR", help="fill the SQLite store in DIR once and reuse it after")
    parser.add_argument("--only", default="", help="time only the measurements whose name contains this")
    args = parser.parse_args()
    print(f"Daily summary over {args.responses:,} responses from {args.kiosks} kiosks across {args.days} days "
          f"(about {args.responses // args.days:,} a day), {args.samples} random days, milliseconds:")
    print("| store | what | p50 | p95 |")
    print("|---|---|---|---|")
    for kind in args.stores.split(","):
        if kind == "sqlite" and args.keep:
            Path(args.keep).mkdir(parents=True, exist_ok=True)
            rows = measure(kind, args, args.keep)
        else:
            with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as folder:
                rows = measure(kind, args, folder)
        for name, p50, p95 in rows:
            print(f"| {kind} | {name} | {p50:.0f} | {p95:.0f} |", flush=True)


if __name__ == "__main__":
    main()
