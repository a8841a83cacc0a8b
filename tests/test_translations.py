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


def forms(text) -> tuple:
    """A message's id or translation as a tuple: one text, or a plural message's forms."""
    return tuple(text) if isinstance(text, (list, tuple)) else (text,)


def test_every_message_is_translated_in_nfc():
    for message in load_po():
        if message.id:
            assert all(forms(message.string)), message.id
            assert all(unicodedata.is_normalized("NFC", text) for text in forms(message.string)), message.id


def test_compiled_catalogue_matches_the_po_file():
    with open(CATALOG / "messages.mo", "rb") as handle:
        compiled = {forms(m.id): forms(m.string) for m in read_mo(handle) if m.id}
    source = {forms(m.id): forms(m.string) for m in load_po() if m.id}
    assert compiled == source, "run scripts/update_translations.py to recompile"


def test_staff_words_are_the_departments_own():
    """Machine-like words the supervisors could not read are gone: a case is a "phản ánh", never the citizen's
    "hồ sơ" (their dossier); flagged responses are "nghi vấn", not "gắn cờ"; no "sự kiện toàn vẹn"."""
    for message in load_po():
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        text = message.string if isinstance(message.string, str) else message.string[0]
        assert "gắn cờ" not in text.lower() and "toàn vẹn" not in text.lower(), source
        if "ossier" not in source and "document" not in source:
            assert "hồ sơ" not in text.lower(), source


def test_every_translation_call_in_the_code_gives_its_text_literally():
    """The catalogue's extraction finds only literal strings: ``gettext(text)`` with a variable is never
    extracted, so its text drops out of the catalogue at the next update and shows in English (as the
    fleet page's clock offsets and durations once did)."""
    import ast
    calls = ("gettext", "ngettext", "lazy_gettext", "_", "_l", "pgettext")
    found = []
    for path in [*ROOT.glob("kiosk/**/*.py"), *ROOT.glob("sync/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node, "func", None) and getattr(node.func, "id", getattr(node.func, "attr", None))
            literal = isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str)
            if name in calls and node.args and not literal:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
