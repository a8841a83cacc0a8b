"""The settings registry (kiosk/settings.py): README tables, each program's --help, the error sentences and
the loaded config all come from it, and no program reads a variable it does not list."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kiosk import settings
from kiosk.cli import cli as kiosk_cli
from kiosk.config import DEFAULT_QUESTIONNAIRE, KioskConfig
from kiosk.config import load as load_kiosk
from sync.central.cli import central
from sync.central.config import load as load_central
from sync.cli import kiosk_sync

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SCRIPT = ROOT / "scripts" / "settings_table.py"
#: A variable name as code or help text writes it.
VARIABLE = re.compile(r"\b((?:KIOSK|CENTRAL)_[A-Z][A-Z0-9_]*[A-Z0-9]|DATABASE_URL)\b")


def readme_tables(text) -> dict:
    """{programs named by the marker: the table's Markdown} for each marked table."""
    return {match[2]: match[3] for match in settings.README_TABLE.finditer(text)}


def test_readme_tables_are_the_registry():
    text = README.read_text(encoding="utf-8")
    tables = readme_tables(text)
    assert set(tables) == {"kiosk", "kiosk-sync central"}
    assert text == settings.with_tables(text), "README's settings tables differ: run scripts/settings_table.py"
    listed = [name for table in tables.values() for name in re.findall(r"^\| `([A-Z_]+)` \|", table, re.M)]
    assert sorted(listed) == sorted(settings.SETTINGS), "each setting is in exactly one README table"


def test_the_check_fails_on_a_readme_that_differs_and_the_script_mends_it(tmp_path):
    copy = tmp_path / "README.md"
    text = README.read_text(encoding="utf-8")
    assert "| 30 | `kiosk` |" in text
    copy.write_text(text.replace("| 30 | `kiosk` |", "| 45 | `kiosk` |", 1), encoding="utf-8")
    checked = subprocess.run([sys.executable, SCRIPT, "--check", copy], capture_output=True, text=True)
    assert checked.returncode == 1 and "differ from kiosk/settings.py" in checked.stderr
    subprocess.run([sys.executable, SCRIPT, copy], check=True, capture_output=True)
    assert copy.read_text(encoding="utf-8") == text
    assert subprocess.run([sys.executable, SCRIPT, "--check", copy]).returncode == 0


@pytest.mark.parametrize("program, command", [("kiosk", kiosk_cli), ("kiosk-sync", kiosk_sync), ("central", central)])
def test_help_lists_every_setting_of_the_program_and_no_other(program, command):
    shown = CliRunner().invoke(command, ["--help"], terminal_width=200)
    assert shown.exit_code == 0
    named = set(VARIABLE.findall(shown.output))
    own = {setting.name for setting in settings.of(program)}
    assert own <= named, f"`{program} --help` misses {sorted(own - named)}"
    for setting in settings.of(program):
        line = next(line for line in shown.output.splitlines() if line.strip().startswith(setting.name + " "))
        assert setting.help.split()[0] in line
    assert named <= set(settings.SETTINGS), f"`{program} --help` names unregistered {sorted(named - own)}"


def test_every_variable_the_code_reads_is_registered():
    """A quoted name like "KIOSK_X" in the programs' code is a setting read or named; each must be registered."""
    quoted = re.compile(r"""["']((?:KIOSK|CENTRAL)_[A-Z][A-Z0-9_]*[A-Z0-9]|DATABASE_URL)["']""")
    found = {}
    for path in [*ROOT.glob("kiosk/**/*.py"), *ROOT.glob("sync/**/*.py"), ROOT / "scripts" / "run_local.py"]:
        for name in quoted.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, path.relative_to(ROOT))
    unregistered = {name: str(path) for name, path in found.items() if name not in settings.SETTINGS}
    assert not unregistered, f"add these to kiosk/settings.py: {unregistered}"
    assert {"KIOSK_DB", "CENTRAL_URL", "DATABASE_URL"} <= set(found)


def test_every_setting_names_a_known_program_and_a_field_of_its_config():
    fields = {"kiosk": set(KioskConfig.__dataclass_fields__),
              "central": {"questionnaire_path", "https", "max_body_bytes", "max_batch", "replay_seconds",
                          "case_days", "contact_days", "trusted_proxies", "pakn_days", "target_pct",
                          "min_responses"},
              "kiosk-sync": {"db_path", "kiosk_id", "secret", "url", "batch_size", "backoff_cap"}}
    for setting in settings.REGISTRY:
        assert setting.programs and set(setting.programs) <= set(settings.PROGRAMS), setting.name
        assert setting.help and setting.help == setting.help.strip()
        for program in setting.programs:
            if setting.field:
                assert setting.field in fields[program], (setting.name, program)
    assert len(settings.REGISTRY) == len(settings.SETTINGS), "one entry per name"


@pytest.mark.parametrize("name, value, sentence", [
    ("KIOSK_SETTLE_MS", "5001", "KIOSK_SETTLE_MS must be a whole number from 0 to 5000 (milliseconds a new screen "
     "ignores taps, so a double tap never answers a screen unseen), not '5001'."),
    ("KIOSK_SYNC_BATCH", "ten", "KIOSK_SYNC_BATCH must be a whole number from 1 to 100000 (responses per batch, "
     "at most central's CENTRAL_MAX_BATCH), not 'ten'."),
    ("CENTRAL_HTTPS", "Yes", "CENTRAL_HTTPS must be true or false, not 'yes'."),
    ("CENTRAL_TRUSTED_PROXIES", "127.0.0.1, proxy", "CENTRAL_TRUSTED_PROXIES must be comma-separated IP addresses "
     "or networks (e.g. 127.0.0.1,10.0.0.0/8), not 'proxy'."),
    ("KIOSK_SECRET", "abc", "KIOSK_SECRET must be the 64-hex-digit secret that `central add-kiosk` printed."),
    ("KIOSK_SECRET", "", "KIOSK_SECRET must be the 64-hex-digit secret that `central add-kiosk` printed."),
    ("KIOSK_SECRET", "a" * 64 + "\n" + "b", "KIOSK_SECRET must be the 64-hex-digit secret that `central add-kiosk` "
     "printed."),
    ("CENTRAL_URL", "10.0.0.5:8000", "CENTRAL_URL must be central's address, e.g. CENTRAL_URL=http://10.0.0.5:8000."),
    ("KIOSK_ID", "-x", "KIOSK_ID must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or "
     "digit, not '-x'."),
    ("KIOSK_ID", " ", "KIOSK_ID is not set: give this kiosk's id, e.g. KIOSK_ID=mc-quay-01."),
    ("DATABASE_URL", "sqlite:///x.db", "DATABASE_URL must start with postgresql://, e.g. "
     "DATABASE_URL=postgresql://postgres@127.0.0.1:5432/sipas."),
])
def test_a_wrong_value_gets_one_sentence_naming_the_variable(name, value, sentence):
    with pytest.raises(settings.SettingError) as raised:
        settings.get(name).read({name: value})
    assert str(raised.value) == sentence


@pytest.mark.parametrize("name, value, read", [
    ("KIOSK_IDLE_SECONDS", " 3600 ", 3600),
    ("KIOSK_SETTLE_MS", "0", 0),
    ("CENTRAL_HTTPS", "TRUE", True),
    ("CENTRAL_HTTPS", "", False),
    ("CENTRAL_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,", ("127.0.0.1/32", "10.0.0.0/8")),
    ("CENTRAL_TRUSTED_PROXIES", "", ()),
    ("DATABASE_URL", "postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("KIOSK_QUESTIONNAIRE", "", DEFAULT_QUESTIONNAIRE),
])
def test_a_good_or_blank_value_is_read(name, value, read):
    got = settings.get(name).read({name: value})
    assert (tuple(str(n) for n in got) if name == "CENTRAL_TRUSTED_PROXIES" else got) == read


def test_loaded_configs_hold_the_registry_defaults(tmp_path):
    kiosk = load_kiosk({"KIOSK_DB": str(tmp_path / "k.db"), "KIOSK_ID": "k1"})
    assert kiosk == KioskConfig(db_path=tmp_path / "k.db", kiosk_id="k1", questionnaire_path=DEFAULT_QUESTIONNAIRE,
                                idle_seconds=30, min_seconds=2, burst_limit=5, burst_window=120, contact_days=90,
                                settle_ms=800)
    central_config = load_central({"CENTRAL_DB": str(tmp_path / "c.db"), "CENTRAL_MAX_BATCH": "7"})
    assert central_config.database_url == f"sqlite:///{(tmp_path / 'c.db').resolve()}"
    assert (central_config.max_batch, central_config.max_body_bytes, central_config.https,
            central_config.trusted_proxies, central_config.workday_swaps) == (7, 5_000_000, False, (), ())
    with pytest.raises(settings.SettingError, match="^CENTRAL_DB is not set: "):
        load_central({})


def test_the_batch_size_defaults_agree_everywhere():
    """5,000 a batch: the kiosk's uploader, central's setting, the schema's limit and the Uploader's own default."""
    import inspect

    from sync import schema
    from sync.uploader import Uploader
    uploader_default = inspect.signature(Uploader).parameters["batch_size"].default
    assert (settings.get("KIOSK_SYNC_BATCH").default, settings.get("CENTRAL_MAX_BATCH").default,
            schema.DEFAULT_MAX_RESPONSES, uploader_default) == (5000, 5000, 5000, 5000)
