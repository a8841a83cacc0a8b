"""Re-extract the UI strings and compile the catalogues.

Run after changing a translatable string:  .venv/bin/python scripts/update_translations.py
Then translate the new entries in kiosk/translations/vi/LC_MESSAGES/messages.po and run it again.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "kiosk" / "translations"
POT = ROOT / "build" / "messages.pot"


def pybabel(*args):
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


def main():
    POT.parent.mkdir(exist_ok=True)
    pybabel("extract", "-F", "babel.cfg", "-k", "_l", "--no-location", "-o", str(POT), ".")
    if (TRANSLATIONS / "vi" / "LC_MESSAGES" / "messages.po").exists():
        pybabel("update", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", "vi", "--no-fuzzy-matching")
    else:
        pybabel("init", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", "vi")
    pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")


if __name__ == "__main__":
    main()
