"""Vietnamese first: every UI string is translated and the compiled catalogue is current."""

import subprocess
import sys
import unicodedata
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "kiosk" / "translations" / "vi" / "LC_MESSAGES"


def load_po():
    with open(CATALOG / "messages.po", "rb") as handle:
        return read_po(handle)


def test_every_string_in_the_code_is_in_the_catalogue(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-o", str(pot), "."], cwd=ROOT, check=True)
    with open(pot, "rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    have = {m.id for m in load_po() if m.id}
    assert wanted - have == set(), "run scripts/update_translations.py and translate"


def test_every_message_is_translated_in_nfc():
    for message in load_po():
        if message.id:
            assert message.string, message.id
            assert unicodedata.is_normalized("NFC", message.string), message.id


def test_compiled_catalogue_matches_the_po_file():
    with open(CATALOG / "messages.mo", "rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    source = {m.id: m.string for m in load_po() if m.id}
    assert compiled == source, "run scripts/update_translations.py to recompile"
