"""Write the README's settings tables from the registry in kiosk/settings.py.

    .venv/bin/python scripts/settings_table.py           # rewrite README.md's marked tables
    .venv/bin/python scripts/settings_table.py --check   # exit 1 if README.md differs from the registry

A table sits between ``<!-- settings: PROGRAM ... -->`` and ``<!-- /settings -->`` and lists the
settings whose first program is one of those named. An optional path names another Markdown file.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk import settings  # noqa: E402  (after the path, so a source checkout needs no install)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when the tables differ")
    parser.add_argument("path", nargs="?", default=str(ROOT / "README.md"))
    args = parser.parse_args()
    path = Path(args.path)
    text = path.read_text(encoding="utf-8")
    wanted = settings.with_tables(text)
    if not settings.README_TABLE.search(text):
        sys.exit(f"{path} has no settings table markers.")
    if args.check:
        if wanted != text:
            sys.exit(f"{path}: the settings tables differ from kiosk/settings.py; "
                     f"run .venv/bin/python scripts/settings_table.py")
        return
    if wanted != text:
        path.write_text(wanted, encoding="utf-8")
        print(f"{path}: settings tables rewritten.")


if __name__ == "__main__":
    main()
