"""Run the whole system on this machine for trying it out, on SQLite under ./var:
central on :8000, one kiosk on :5000 and its uploader. Ctrl-C stops all three.

Settings already in the environment win. A development staff PIN (2468), the
kiosk's secret, a read-only API token and an admin password are made on the
first run and kept in ./var.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from kiosk.paths import owner_only

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
BIN = Path(sys.executable).parent
DEV_PIN = "2468"
KIOSK_ID = "dev-kiosk-1"
UNIT = "Sở Xây dựng"


def run(*args, env, **kwargs):
    return subprocess.run([str(BIN / args[0]), *args[1:]], env=env, check=True, text=True, **kwargs)


def once(path: Path, make) -> str:
    """A value made on the first run and kept in ./var."""
    if not path.exists():
        value = make().strip()
        owner_only(path)  # created 0600 before the secret is written
        path.write_text(value + "\n", encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def stop_on_signal(_signum, _frame):
    raise KeyboardInterrupt


def main():
    signal.signal(signal.SIGINT, stop_on_signal)  # also when started from a shell that ignores it
    signal.signal(signal.SIGTERM, stop_on_signal)
    VAR.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.setdefault("CENTRAL_DB", str(VAR / "central.db"))
    env.setdefault("KIOSK_DB", str(VAR / "kiosk.db"))
    env.setdefault("KIOSK_ID", KIOSK_ID)
    env.setdefault("CENTRAL_URL", "http://127.0.0.1:8000")

    run("central", "init", env=env)
    env.setdefault("KIOSK_SECRET", once(VAR / f"{env['KIOSK_ID']}.secret", lambda: run(
        "central", "add-kiosk", env["KIOSK_ID"], "--unit", UNIT, env=env, capture_output=True).stdout))
    token = once(VAR / "api-token", lambda: run("central", "add-token", "local", env=env,
                                                capture_output=True).stdout)
    password = once(VAR / "admin-password", lambda: secrets.token_urlsafe(12))
    if not (VAR / "admin-made").exists():
        run("central", "add-user", "admin", "--role", "admin", env=env, input=password + "\n")
        (VAR / "admin-made").touch()
    if not (VAR / "roster-made").exists():  # a small roster, so staff mode picks the counter and the officer
        run("central", "unit", "add", UNIT, "--name", "Bộ phận Một cửa – Sở Xây dựng", env=env)
        for counter_id, name in (("Q1", "Quầy 1"), ("Q2", "Quầy 2")):
            run("central", "counter", "add", "--unit", UNIT, "--id", counter_id, "--name", name, env=env)
        for officer_id, name in (("cb-hung", "Nguyễn Văn Hùng"), ("cb-lan", "Trần Thị Lan")):
            run("central", "officer", "add", "--unit", UNIT, "--id", officer_id, "--name", name, env=env,
                capture_output=True)
        (VAR / "roster-made").touch()
    run("kiosk", "init", env=env)
    if not (VAR / "pin-set").exists():
        run("kiosk", "set-pin", env=env, input=DEV_PIN + "\n")
        (VAR / "pin-set").touch()

    processes = [subprocess.Popen([str(BIN / "central"), "run"], env=env),
                 subprocess.Popen([str(BIN / "kiosk"), "run"], env=env)]
    for url in ("http://127.0.0.1:8000/healthz", "http://127.0.0.1:5000/healthz"):
        for _ in range(100):
            try:
                requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
    processes.append(subprocess.Popen([str(BIN / "kiosk-sync")], env=env))
    print(f"""
  Kiosk survey:   http://127.0.0.1:5000/          (staff mode: /staff/, PIN {DEV_PIN})
  Staff pages:    http://127.0.0.1:8000/              (name admin, password {password})
  Day summary:    curl -H 'Authorization: Bearer {token}' 'http://127.0.0.1:8000/api/v1/summary?date=YYYY-MM-DD'
  Uploader:       running (kiosk-sync), sends each response within seconds
  Press Ctrl-C to stop everything.
""", flush=True)
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        print("A process stopped; stopping the others.", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        print("Stopped.", flush=True)


if __name__ == "__main__":
    main()
