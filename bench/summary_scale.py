"""The summary page, the trends, /api/v1/summary and the case queue over a large central store.

Fills a central store (SQLite, PostgreSQL or both) with --responses responses from --kiosks kiosks (10 per
unit, 3 officers each, 3% flagged, 30% tied to a dossier) spread over --days days, about --cases of them
unhappy enough to open a case (a rating of 1-2 or extra demands, with reason chips; old cases mostly
closed, the last 30 days' in every status), with the tallies, facts and case reason rows ingest keeps.
Then serves it with `central run` and times, over --samples random days: the summary page as an admin
(every unit), a supervisor (one unit, with its counters and officers) and an officer, each with the
day-before and week-before comparisons; `/api/v1/summary` for every unit and for one kiosk; the 90-day
trends page; a plain GROUP BY of the same day's responses straight on the store; and the case queue's
first page as each role with no filter and with each filter alone. Prints p50 and p95 in milliseconds.

    .venv/bin/python bench/summary_scale.py [--responses 10000000] [--cases 200000] [--stores sqlite,postgresql]

``--keep DIR`` fills each store once and reuses it on later runs with the same DIR: SQLite in
DIR/central.db (about 8 GB at 10 million), PostgreSQL in the database ``--pg-db`` (default scale_bench,
made if missing); a kept store is first brought to the newest migration step, so a new step is timed
on it too. ``--only trends`` times only the measurements whose name contains that word.
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
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import requests
from benchkit import PASSWORD, PG_CONNINFO, drop_schema, logged_in, percentile, queue_filters, start_server, store_for
from sqlalchemy import text

from kiosk.clock import LOCAL_TZ, utc_iso
from sync.central.cases import why
from sync.central.store import accounts, database, migrations, roster, schema, tallies
from sync.central.store import cases as case_store

HASH = "0" * 64
CHUNK = 50_000




REASONS = ("long_wait", "impolite", "unclear_guidance", "many_visits", "harassment", "extra_demands")


def response_and_case(i, count, kiosks, days, first_day, case_share, rng):
    """Response number `i` of `count` (a row for `responses`), its tally form and its case row or None.
    A share `case_share` of the responses is unhappy (a rating of 1-2 or extra demands, some reasons)
    and opens a case; old cases are mostly closed, the last 30 days' are in every status."""
    k = i % kiosks
    on_duty = rng.randrange(3)  # the officer: by name and by roster id (issue 13)
    day = first_day + timedelta(days=i * days // count)
    moment = datetime(day.year, day.month, day.day, 1 + rng.randrange(9), rng.randrange(60), tzinfo=timezone.utc)
    unhappy = rng.random() < case_share
    if unhappy:
        extra = rng.random() < 0.1
        answers = {"overall": rng.choice((1, 2)) if not extra or rng.random() < 0.5 else 3,
                   "guidance": rng.choice((2, 3, 4)), "attitude": rng.choice((1, 3, 4)), "fairness": 3,
                   "extra_request": "yes" if extra else "no", "visits": rng.choice(("1", "2", "3"))}
        reasons = rng.sample(REASONS, rng.randrange(3))
    else:
        answers = {"overall": rng.choice((3, 4, 4, 5, 5, 5)), "guidance": rng.choice((3, 4, 5, 5)),
                   "attitude": rng.choice((3, 4, 5, 5, 5)), "fairness": rng.choice((3, 4, 5)),
                   "extra_request": "no", "visits": rng.choice(("1", "1", "2"))}
        reasons = []
    comment = rng.random() < (0.4 if unhappy else 0.05)
    flags = ["too_fast"] if rng.random() < 0.03 else []
    stamp = utc_iso(moment)
    row = {"id": i + 1, "uuid": str(uuid.UUID(int=i + 1)), "kiosk_id": f"k{k:03d}", "unit": f"Đơn vị {k // 10:02d}",
           "seq": i // kiosks + 1, "local_day": moment.astimezone(LOCAL_TZ).date().isoformat(),
           "started_utc": stamp, "created_utc": stamp, "utc_offset_minutes": 420, "received_utc": stamp,
           "questionnaire_version": "2025.1", "counter": str(k % 10 + 1),
           "officer": f"Cán bộ {k:03d}-{on_duty}", "officer_id": f"cb-{k:03d}-{on_duty}",
           "counter_id": f"Q{k:03d}-{k % 10 + 1}",
           "dossier_code": f"H{k:03d}.{i // kiosks:06d}" if rng.random() < 0.3 else None,
           "answers": json.dumps(answers), "reasons": json.dumps(reasons), "complete": 1, "flags": json.dumps(flags),
           "comment_hash": HASH if comment else None, "contact_hash": None, "prev_hash": HASH, "hash": HASH,
           "batch_id": "00000000-0000-4000-8000-000000000000"}
    tallied = {**row, "answers": answers, "reasons": reasons, "flags": flags, "has_comment": comment}
    opened = why(answers, comment, reasons)
    if not opened:
        return row, tallied, None
    if (first_day + timedelta(days=days) - day).days > 30:
        status = "closed" if rng.random() < 0.97 else rng.choice(("new", "assigned", "answered"))
    else:
        status = rng.choice(("new", "assigned", "answered", "closed"))
    case = {"response_id": i + 1, "local_day": row["local_day"], "unit": row["unit"], "kiosk_id": row["kiosk_id"],
            "officer": row["officer"], "officer_id": row["officer_id"], "why": ",".join(opened), "status": status,
            "assignee": "supervisor" if status != "new" else None,
            "answer": "Đã trả lời." if status in ("answered", "closed") else None, "opened_utc": stamp,
            "updated_utc": stamp, "closed_utc": stamp if status == "closed" else None, "channel": "kiosk",
            "started_utc": stamp, "reasons": ",".join(reasons) or None}
    return row, tallied, case


def fill(engine, count, kiosks, days, first_day, cases_wanted):
    """`count` responses, about `cases_wanted` of them opening a case, with their tallies (as ingest keeps
    them), in chunks of CHUNK."""
    rng = random.Random(2026)
    with database.write(engine) as conn:
        conn.execute(schema.kiosks.insert(), [{"kiosk_id": f"k{i:03d}", "unit": f"Đơn vị {i // 10:02d}",
                                           "secret": HASH, "created_utc": "2024-01-01T00:00:00.000Z",
                                           "last_batch_utc": utc_iso(datetime.now(timezone.utc))}
                                          for i in range(kiosks)])
    share = cases_wanted / count
    for chunk_start in range(0, count, CHUNK):
        made = [response_and_case(i, count, kiosks, days, first_day, share, rng)
                for i in range(chunk_start, min(count, chunk_start + CHUNK))]
        opened = [case for _r, _t, case in made if case]
        with database.write(engine) as conn:
            for case, case_id in zip(opened, database.new_ids(conn, schema.cases, len(opened)), strict=True):
                case["id"] = case_id
            database.bulk_insert(conn, schema.responses, [row for row, _t, _c in made])
            commented = [{"response_id": case["response_id"], "comment": "Cán bộ hướng dẫn chưa rõ, phải đi lại."}
                         for case in opened if "comment" in case["why"]]
            for table, rows in ((schema.response_private, commented), (schema.cases, opened)):
                if rows:
                    database.bulk_insert(conn, table, rows)
            case_store.add_reasons(conn, opened)  # as ingest keeps them
            tallies.add_tallies(conn, [tallied for _r, tallied, _c in made])
        print(f"  filled {min(count, chunk_start + CHUNK):,}", end="\r", file=sys.stderr, flush=True)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('responses', 'id'), max(id)) FROM responses")
            conn.commit()
            # What autovacuum does soon after a load: statistics, and the visibility map index-only scans need.
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")


def kept_store(kind, args, folder):
    """(url, environment for `central`, PostgreSQL schema to drop or None, marker file or None): with --keep, the
    SQLite file in DIR or the PostgreSQL database --pg-db (made if missing), each filled once (its marker file
    in DIR says so); without, a fresh file in `folder` or a fresh schema in the `test` database."""
    if args.keep is None:
        return (*store_for(kind, folder, "scale"), None)
    marker = Path(args.keep) / f"filled-{kind}"
    if kind == "sqlite":
        url = f"sqlite:///{Path(args.keep).resolve()}/central.db"
        return url, {"CENTRAL_DB": url.removeprefix("sqlite:///")}, None, marker
    import psycopg
    with psycopg.connect(PG_CONNINFO, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (args.pg_db,)).fetchone():
            conn.execute(f"CREATE DATABASE {args.pg_db}")
    url = f"postgresql://postgres@127.0.0.1:5432/{args.pg_db}"
    return url, {"DATABASE_URL": url}, None, marker


def reads(base, token, engine, unit) -> dict:
    """{name: function of a day (YYYY-MM-DD) that makes one timed read}: the summary page per role, the
    trends, the API, a plain GROUP BY, and the case queue's first page per role with each filter alone."""
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

    def queue(name, label, params):
        def read(_day):
            assert sessions[name].get(base + "/cases", params=params).status_code == 200
        kept = re.search(r'role="status">(\d+)', sessions[name].get(base + "/cases", params=params).text)
        return f"case queue, {name}, {label} ({kept[1] if kept else '?'} cases)", read

    timed = {
        "summary page, admin, every unit": lambda day: page("admin", date=day),
        f"summary page, supervisor, {unit} (counters and officers)": lambda day: page("supervisor", date=day),
        "summary page, officer": lambda day: page("officer", date=day),
        "trends page, admin, every unit, 90 days": lambda day: trends("admin"),
        "/api/v1/summary, every unit": lambda day: summary_api(date=day),
        "/api/v1/summary, one kiosk": lambda day: summary_api(date=day, kiosk="k070"),
        "plain GROUP BY of the day's responses": plain_group_by,
    }
    for who in ("admin", "supervisor", "officer"):
        for label, params in queue_filters(datetime.now(LOCAL_TZ).date(), unit, "cb-070-1").items():
            name, read = queue(who, label, params)
            timed[name] = read
    return timed


def measure(kind, args, folder):
    url, env, pg_schema, marker = kept_store(kind, args, folder)
    reused = marker is not None and marker.exists()
    env = {**os.environ, **env}
    engine = database.engine_for(url)
    try:
        unit = "Đơn vị 07"
        started = time.perf_counter()
        applied = migrations.migrate(engine)  # a kept store is brought to the newest step first
        if reused:
            first_day, token = marker.read_text().split()
            first_day = date.fromisoformat(first_day)
            if applied:
                print(f"  {kind}: applied {', '.join(applied)} in {time.perf_counter() - started:.0f} s",
                      file=sys.stderr)
        else:
            first_day = date.today() - timedelta(days=args.days)
            started = time.perf_counter()
            fill(engine, args.responses, args.kiosks, args.days, first_day, args.cases)
            print(f"  {kind}: filled {args.responses:,} responses in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr)
            accounts.add_user(engine, "admin", "admin", None, PASSWORD)
            accounts.add_user(engine, "supervisor", "supervisor", unit, PASSWORD)
            roster.add_unit(engine, unit, unit)
            roster.add_officer(engine, unit, "Cán bộ 070-1", "cb-070-1")
            accounts.add_user(engine, "officer", "officer", unit, PASSWORD, officer_id="cb-070-1")
            token = accounts.add_token(engine, "bench")
            if marker is not None:
                marker.write_text(f"{first_day.isoformat()} {token}\n")
        server, base = start_server(env)
        timed = reads(base, token, engine, unit)
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
        print(f"  {kind}: load average while timing {os.getloadavg()[0]:.1f} (1 min, at the end)", file=sys.stderr)
        return [(name, percentile(v, .5), percentile(v, .95)) for name, v in times.items() if v]
    finally:
        engine.dispose()
        drop_schema(pg_schema)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=10_000_000)
    parser.add_argument("--kiosks", type=int, default=200)
    parser.add_argument("--cases", type=int, default=200_000, help="about this many responses open a case")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--keep", metavar="DIR", help="fill each store once and reuse it after: SQLite in DIR, "
                        "PostgreSQL in the database --pg-db (DIR keeps which are filled)")
    parser.add_argument("--pg-db", default="scale_bench", help="the PostgreSQL database --keep fills")
    parser.add_argument("--only", default="", help="time only the measurements whose name contains this")
    args = parser.parse_args()
    print(f"Daily summary over {args.responses:,} responses from {args.kiosks} kiosks across {args.days} days "
          f"(about {args.responses // args.days:,} a day), {args.samples} random days, milliseconds:")
    print("| store | what | p50 | p95 |")
    print("|---|---|---|---|")
    for kind in args.stores.split(","):
        if args.keep:
            Path(args.keep).mkdir(parents=True, exist_ok=True)
            rows = measure(kind, args, args.keep)
        else:
            with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as folder:
                rows = measure(kind, args, folder)
        for name, p50, p95 in rows:
            print(f"| {kind} | {name} | {p50:.0f} | {p95:.0f} |", flush=True)


if __name__ == "__main__":
    main()
