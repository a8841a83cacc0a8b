"""The case queue over 200,000 cases: the first page with each filter, through `central run`.

Fills a fresh central store (SQLite, PostgreSQL or both) with --cases cases over --days days in 20 units
(3 officers each), each with its kiosk response (and a comment for 40%): old cases are mostly closed, a
few stay open and overdue, recent ones are new, assigned or answered. Then times the queue's first page
as an admin (every unit), a supervisor (one unit) and an officer, with no filter and with each filter
alone, --samples times each. Prints p50 and p95 in milliseconds. The queue reads cases (and, for the 50
rows shown, their response by primary key), so the number of responses beyond the cases does not change
these figures.

    .venv/bin/python bench/case_queue.py [--cases 200000] [--stores sqlite,postgresql]
"""

import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone

from benchkit import PASSWORD, drop_schema, logged_in, percentile, queue_filters, start_server, store_for

from kiosk.clock import LOCAL_TZ, utc_iso
from sync.central import cases as case_rules
from sync.central.config import load as load_config
from sync.central.store import accounts, database, migrations, queue, roster, schema
from sync.central.store import cases as case_store
from sync.central.workdays import WorkCalendar

HASH = "0" * 64
CHUNK = 20_000
UNITS = 20
REASONS = ("long_wait", "impolite", "unclear_guidance", "many_visits", "harassment", "extra_demands")




def case_and_response(i, count, days, today, rng):
    day_back = days - 1 - i * days // count
    moment = datetime.combine(today - timedelta(days=day_back), datetime.min.time(), timezone.utc) \
        + timedelta(hours=1 + rng.randrange(9), minutes=rng.randrange(60))
    unit_no = rng.randrange(UNITS)
    on_duty = rng.randrange(3)  # the officer: by name and by roster id (issue 13)
    unit, kiosk, officer = f"Đơn vị {unit_no:02d}", f"k{unit_no:03d}", f"Cán bộ {unit_no:02d}-{on_duty}"
    officer_id = f"cb-{unit_no:02d}-{on_duty}"
    local_day = moment.astimezone(LOCAL_TZ).date().isoformat()
    if day_back > 30:
        status = "closed" if rng.random() < 0.97 else rng.choice(("new", "assigned", "answered"))
    else:
        status = rng.choice(("new", "assigned", "answered", "closed"))
    low, extra = rng.random() < 0.8, rng.random() < 0.1
    reasons = rng.sample(REASONS, rng.randrange(3)) if low else []
    why = (["comment"] if rng.random() < 0.4 else []) + (["low_rating"] if low or not extra else []) \
        + (["extra_request"] if extra else [])
    stamp = utc_iso(moment)
    response = {"id": i + 1, "uuid": str(uuid.UUID(int=i + 1)), "kiosk_id": kiosk, "unit": unit, "seq": i + 1,
                "local_day": local_day, "started_utc": stamp, "created_utc": stamp, "utc_offset_minutes": 420,
                "received_utc": stamp, "questionnaire_version": "2025.1", "counter": str(unit_no % 10 + 1),
                "officer": officer, "officer_id": officer_id, "dossier_code": None,
                "answers": json.dumps({"overall": 2 if low else 4}),
                "reasons": json.dumps(reasons), "complete": 1, "flags": "[]",
                "comment_hash": HASH if "comment" in why else None, "contact_hash": None, "prev_hash": HASH,
                "hash": HASH, "batch_id": "00000000-0000-4000-8000-000000000000"}
    case = {"response_id": i + 1, "local_day": local_day, "unit": unit, "kiosk_id": kiosk, "officer": officer,
            "officer_id": officer_id,
            "why": ",".join(why), "status": status, "assignee": "supervisor" if status != "new" else None,
            "answer": "Đã trả lời." if status in ("answered", "closed") else None, "opened_utc": stamp,
            "updated_utc": stamp, "closed_utc": stamp if status == "closed" else None, "channel": "kiosk",
            "started_utc": stamp, "reasons": ",".join(reasons) or None}
    return response, case


def fill(engine, count, days, today):
    rng = random.Random(2026)
    with database.write(engine) as conn:
        conn.execute(schema.kiosks.insert(), [{"kiosk_id": f"k{i:03d}", "unit": f"Đơn vị {i:02d}", "secret": HASH,
                                               "created_utc": "2024-01-01T00:00:00.000Z"} for i in range(UNITS)])
    for start in range(0, count, CHUNK):
        made = [case_and_response(i, count, days, today, rng) for i in range(start, min(count, start + CHUNK))]
        with database.write(engine) as conn:
            for (_r, case), case_id in zip(made, database.new_ids(conn, schema.cases, len(made)), strict=True):
                case["id"] = case_id
            database.bulk_insert(conn, schema.responses, [r for r, _c in made])
            database.bulk_insert(conn, schema.response_private, [
                {"response_id": r["id"], "comment": "Cán bộ hướng dẫn chưa rõ, phải đi lại nhiều lần."}
                for r, _c in made if r["comment_hash"]])
            database.bulk_insert(conn, schema.cases, [c for _r, c in made])
            case_store.add_reasons(conn, [c for _r, c in made])  # as ingest keeps them
        print(f"  filled {min(count, start + CHUNK):,}", end="\r", file=sys.stderr, flush=True)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # What autovacuum does soon after a load: statistics, and the visibility map index-only scans need.
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")




def store_only(engine, config, today, samples):
    """The queue's own queries (counts, the page's ids, its rows) in this process, every unit, per filter."""
    pairs = queue.group_pairs(engine)
    overdue, due = case_rules.deadlines(today, config, WorkCalendar(), pairs)
    deadlines = queue.Deadlines(overdue=overdue, due_today=due)
    results = []
    for name, params in queue_filters(today).items():
        wanted = queue.QueueFilter(
            unit=params.get("unit"), officer_id=params.get("officer"), status=params.get("status"),
            channel=params.get("channel"), category=params.get("category"), reason=params.get("reason"),
            start=params.get("from"), end=params.get("to"), overdue="overdue" in params, due_today="due" in params)
        times = []
        for _ in range(samples):
            begun = time.perf_counter()
            page = queue.queue_page(engine, wanted, deadlines, int(params.get("page", 1)))
            times.append((time.perf_counter() - begun) * 1000)
        results.append(("store only, every unit", name, page["total"], percentile(times, .5), percentile(times, .95)))
    return results






def measure(kind, args, folder):
    url, env, pg_schema = store_for(kind, folder, "queue")
    engine = database.engine_for(url)
    today = datetime.now(LOCAL_TZ).date()
    try:
        migrations.migrate(engine)
        started = time.perf_counter()
        fill(engine, args.cases, args.days, today)
        print(f"  {kind}: filled {args.cases:,} cases in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        accounts.add_user(engine, "admin", "admin", None, PASSWORD)
        accounts.add_user(engine, "supervisor", "supervisor", "Đơn vị 07", PASSWORD)
        roster.add_unit(engine, "Đơn vị 07", "Đơn vị 07")
        roster.add_officer(engine, "Đơn vị 07", "Cán bộ 07-1", "cb-07-1")
        accounts.add_user(engine, "officer", "officer", "Đơn vị 07", PASSWORD, officer_id="cb-07-1")
        results = store_only(engine, load_config({**os.environ, **env}), today, args.samples)
        server, base = start_server({**os.environ, **env})
        try:
            for who in ("admin", "supervisor", "officer"):
                session = logged_in(base, who)
                for name, params in queue_filters(today).items():
                    times = []
                    for _ in range(args.samples):
                        begun = time.perf_counter()
                        reply = session.get(base + "/cases", params=params)
                        times.append((time.perf_counter() - begun) * 1000)
                        assert reply.status_code == 200, (name, reply.status_code)
                    total = re.search(r'role="status">(\d+)', reply.text)
                    results.append((who, name, total[1] if total else "?", percentile(times, .5),
                                    percentile(times, .95)))
        finally:
            server.terminate()
            server.wait()
        return results
    finally:
        engine.dispose()
        drop_schema(pg_schema)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"Case queue over {args.cases:,} cases across {args.days} days, first page (50 rows), "
          f"{args.samples} requests each, milliseconds:")
    print("| store | who | filter | cases kept | p50 | p95 |")
    print("|---|---|---|---|---|---|")
    for kind in args.stores.split(","):
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as folder:
            for who, name, total, p50, p95 in measure(kind, args, folder):
                print(f"| {kind} | {who} | {name} | {total} | {p50:.0f} | {p95:.0f} |", flush=True)


if __name__ == "__main__":
    main()
