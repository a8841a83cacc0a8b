"""Where central's time goes when it takes batches: cProfile of `POST /api/v1/batches`, in one process.

The uploader's own code builds the batches (read, encode, gzip, sign) from a
kiosk store of N bulk responses; central's Flask app takes them through its
test client (no HTTP server, so the profile is central's work alone).

    .venv/bin/python bench/profile_ingest.py [--responses 20000] [--batch 1000] [--store sqlite|postgresql]
        [--top 30] [--sort cumtime]
"""

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

from kiosk import store
from sync import wire
from sync.central import config as central_config
from sync.central.app import create_app
from sync.central.store import accounts, database, migrations
from sync.uploader import Uploader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from helpers import bulk_responses  # noqa: E402  (the tests' fast generator of chained responses)

KIOSK = "bench-kiosk"
PG = "host=127.0.0.1 user=postgres dbname=test"


def central_store(kind, folder):
    """(url, schema name to drop or None) of a fresh central store."""
    if kind == "sqlite":
        return f"sqlite:///{folder}/central.db", None
    import psycopg
    name = f"prof_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    return f"postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{name}", name


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--store", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--mix", default="typical", choices=("typical", "uniform"),
                        help="the ratings: typical (9%% open a case) or uniform (87%%); see tests/helpers.py")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--callers", help="also list the callers of the functions matching this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        kiosk_db = Path(folder) / "kiosk.db"
        bulk_responses(kiosk_db, args.responses, KIOSK, mix=args.mix)
        url, pg_schema = central_store(args.store, folder)
        try:
            engine = database.engine_for(url)
            migrations.migrate(engine)
            secret = accounts.add_kiosk(engine, KIOSK, "Bench")
            config = central_config.load({"DATABASE_URL" if pg_schema else "CENTRAL_DB":
                                          url if pg_schema else url.removeprefix("sqlite:///")})
            client = create_app(config, engine).test_client()
            uploader = Uploader(kiosk_db, KIOSK, secret, "http://central.invalid", batch_size=args.batch)
            bodies, after = [], 0
            with store.connect(kiosk_db) as db:
                while prepared := uploader._prepare(db, after):
                    bodies.append(prepared[2])
                    after = prepared[0][-1]["seq"]
            profile, started = cProfile.Profile(), time.perf_counter()
            for body in bodies:
                stamp = str(int(time.time()))
                headers = {"Content-Type": "application/json", "Content-Encoding": "gzip",
                           wire.KIOSK_HEADER: KIOSK, wire.TIMESTAMP_HEADER: stamp,
                           wire.SIGNATURE_HEADER: wire.sign(secret, stamp, body)}
                profile.enable()
                reply = client.post("/api/v1/batches", data=body, headers=headers)
                profile.disable()
                assert reply.status_code == 200, reply.get_data(as_text=True)
            elapsed = time.perf_counter() - started
            engine.dispose()
        finally:
            if pg_schema:
                import psycopg
                with psycopg.connect(PG, autocommit=True) as conn:
                    conn.execute(f"DROP SCHEMA {pg_schema} CASCADE")
    print(f"{args.responses:,} responses in {len(bodies)} batches on {args.store}: "
          f"{args.responses / elapsed:,.0f} responses/s in central (profiled)")
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
    if args.callers:
        pstats.Stats(profile).sort_stats("cumtime").print_callees(args.callers)


if __name__ == "__main__":
    main()
