"""Run the system on this machine for trying it out: one kiosk on SQLite under ./var.

Settings already in the environment win; a development staff PIN (2468) is set
if none is. Ctrl-C stops everything.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_PIN = "2468"


def main():
    env = dict(os.environ)
    env.setdefault("KIOSK_DB", str(ROOT / "var" / "kiosk.db"))
    env.setdefault("KIOSK_ID", "dev-kiosk-1")
    kiosk = [sys.executable, "-m", "kiosk"]
    subprocess.run([*kiosk, "init"], env=env, check=True)

    from kiosk import store

    with store.connect(Path(env["KIOSK_DB"])) as db:
        has_pin = store.get_setting(db, "pin_hash") is not None
    if not has_pin:
        subprocess.run([*kiosk, "set-pin"], env=env, input=DEV_PIN + "\n", text=True, check=True)
        print(f"Staff mode PIN for this development kiosk: {DEV_PIN}")

    print("Kiosk survey: http://127.0.0.1:5000/   (staff mode: http://127.0.0.1:5000/staff/)")
    print("Press Ctrl-C to stop.")
    server = subprocess.Popen([*kiosk, "run"], env=env)
    try:
        server.wait()
    except KeyboardInterrupt:
        server.terminate()
        server.wait(timeout=10)
        print("\nStopped.")


if __name__ == "__main__":
    main()
