"""The fleet page with many kiosks, served by a real `central run` (issue 13; target p95 <= 200 ms).

Registers --kiosks kiosks (10 per unit), each reporting its health once through the real signed
POST /api/v1/kiosk-config (a mix of states: silent ones never report, some failing, clock off, disk low,
outdated), publishes a questionnaire, then times --requests GET /fleet as an admin (every kiosk) and as a
supervisor (one unit), and the configuration requests themselves. Prints p50, p95 and max in milliseconds.
Then the admin's page again in this process (Flask's test client) in CPU time, which other work on a
shared machine does not inflate.

    .venv/bin/python bench/fleet_page.py [--kiosks 200] [--requests 200] [--stores sqlite,postgresql]
"""

import argparse
import json
import os
import random
import re
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
from benchkit import PASSWORD, drop_schema, logged_in, percentile, start_server, store_for

from kiosk.clock import utc_iso
from sync import wire
from sync.central.store import accounts, database, fleet, migrations

QUESTIONNAIRE = Path(__file__).resolve().parent.parent / "kiosk" / "questionnaire.toml"


def health(rng, index):
    """A report for kiosk `index`: mostly healthy, some failing, clock off, disk low or outdated."""
    now = datetime.now(timezone.utc)
    kind = index % 10
    report = {"software_version": "0.2.0" if kind != 4 else "0.1.9", "questionnaire_version": "2026.1",
              "config_version": None, "pending": rng.randint(0, 40), "oldest_pending_age_s": rng.randint(0, 900),
              "clock_utc": utc_iso(now + timedelta(seconds=600 if kind == 2 else rng.randint(-20, 20))),
              "free_disk_bytes": 300_000_000 if kind == 3 else rng.randint(2, 60) * 1_000_000_000,
              "last_error": None, "last_error_utc": None}
    if kind == 1:
        report.update(last_error="Không kết nối được máy chủ trung tâm (ConnectionError)",
                      last_error_utc=utc_iso(now - timedelta(minutes=5)))
    return report


def config_request(session, base, kiosk_id, secret, report):
    body = json.dumps({"nonce": str(uuid.uuid4()), "health": report}).encode()
    stamp = str(int(time.time()))
    started = time.perf_counter()
    reply = session.post(base + "/api/v1/kiosk-config", data=body, timeout=30, headers={
        "Content-Type": "application/json", wire.KIOSK_HEADER: kiosk_id, wire.TIMESTAMP_HEADER: stamp,
        wire.SIGNATURE_HEADER: wire.sign(secret, stamp, body)})
    elapsed = (time.perf_counter() - started) * 1000
    reply.raise_for_status()
    return elapsed


def timed_pages(session, url, count):
    times = []
    for _ in range(count):
        started = time.perf_counter()
        reply = session.get(url, timeout=30)
        times.append((time.perf_counter() - started) * 1000)
        reply.raise_for_status()
    return times


def cpu_times(url, env, count):
    """CPU milliseconds of each admin's /fleet rendered in this process (test client, same store)."""
    from sync.central import app as central_app
    from sync.central.config import load
    engine = database.engine_for(url)
    client = central_app.create_app(load(env), engine).test_client()
    token = re.search(r'name="csrf_token"[^>]*?value="([^"]+)"', client.get("/login").get_data(as_text=True))[1]
    client.post("/login", data={"csrf_token": token, "name": "admin", "password": PASSWORD})
    times = []
    for _ in range(count):
        started = time.process_time()
        assert client.get("/fleet").status_code == 200
        times.append((time.process_time() - started) * 1000)
    engine.dispose()
    return times


def line(name, times):
    print(f"  {name:<36} n={len(times):<5} p50 {percentile(times, 0.5):7.1f} ms   "
          f"p95 {percentile(times, 0.95):7.1f} ms   max {max(times):7.1f} ms", flush=True)


def run(kind, folder, kiosks, count):
    url, env, schema_name = store_for(kind, folder, prefix="fleet_bench")
    env = {**os.environ, **env}
    server = None
    try:
        engine = database.engine_for(url)
        migrations.migrate(engine)
        accounts.add_user(engine, "admin", "admin", None, PASSWORD)
        accounts.add_user(engine, "supervisor", "supervisor", "Đơn vị 03", PASSWORD)
        secrets = {f"mc-{i:03d}": accounts.add_kiosk(engine, f"mc-{i:03d}", f"Đơn vị {i // 10:02d}")
                   for i in range(kiosks)}
        source = QUESTIONNAIRE.read_text(encoding="utf-8")
        fleet.publish_questionnaire(engine, "2026.1", None, source, "0" * 64, "bench", datetime.now(timezone.utc))
        engine.dispose()
        server, base = start_server(env)
        rng, session = random.Random(13), requests.Session()
        config_times = [config_request(session, base, kiosk_id, secret, health(rng, i))
                        for i, (kiosk_id, secret) in enumerate(secrets.items()) if i % 10 != 9]  # 10% silent
        admin, supervisor = logged_in(base, "admin"), logged_in(base, "supervisor")
        assert admin.get(base + "/fleet", timeout=30).text.count('<th scope="row">') == kiosks
        print(f"{kind}: {kiosks} kiosks, {len(config_times)} of them reported", flush=True)
        line("POST /api/v1/kiosk-config", config_times)
        line(f"GET /fleet, admin ({kiosks} kiosks)", timed_pages(admin, base + "/fleet", count))
        line("GET /fleet, supervisor (10 kiosks)", timed_pages(supervisor, base + "/fleet", count))
        line("CPU per /fleet, admin, in process", cpu_times(url, env, count))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        drop_schema(schema_name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    for kind in args.stores.split(","):
        with tempfile.TemporaryDirectory() as folder:
            run(kind, folder, args.kiosks, args.requests)


if __name__ == "__main__":
    main()
