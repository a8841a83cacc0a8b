"""`central` and `kiosk-sync` commands: help, exact messages, secrets shown once."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import invoke
from sync.central.cli import central
from sync.cli import kiosk_sync

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def env(tmp_path):
    return {"CENTRAL_DB": str(tmp_path / "sub" / "central.db")}


def test_missing_store_setting_is_named():
    result = invoke(["init"], {"CENTRAL_DB": "", "DATABASE_URL": ""})
    assert result.exit_code == 1
    assert result.output == ("Error: CENTRAL_DB is not set: give the path of central's SQLite file, e.g. "
                             "CENTRAL_DB=/var/lib/sipas/central.db, or set DATABASE_URL for PostgreSQL.\n")


def test_wrong_database_url_is_named():
    result = invoke(["init"], {"DATABASE_URL": "mysql://x"})
    assert result.output == ("Error: DATABASE_URL must start with postgresql://, e.g. "
                             "DATABASE_URL=postgresql://postgres@127.0.0.1:5432/sipas.\n")


def test_commands_before_init_say_what_to_do(env):
    for args in (["add-kiosk", "k1", "--unit", "U"], ["add-token", "t"], ["run"]):
        result = invoke(args, env)
        assert result.exit_code == 1
        assert result.output == ("Error: The central database is not initialised or not up to date: "
                                 "run `central init` first.\n")


def test_init_is_idempotent_and_secrets_are_printed_once(env):
    assert invoke(["init"], env).output == ("Central database ready (sqlite); applied 0001_initial, 0002_accounts, "
                                           "0003_cases, 0004_day_tallies, 0005_case_days, 0006_installs, "
                                           "0007_quarantine_erasure, 0008_sessions_lockout, 0009_case_channels, "
                                           "0010_pakn_channels, 0011_case_queue, 0012_unit_day_facts, "
                                           "0013_summary_alerts, 0014_roster, 0015_fleet, 0016_case_reasons, "
                                           "0017_day_facts.\n")
    assert invoke(["init"], env).output == "Central database ready (sqlite); already up to date.\n"
    added = invoke(["add-kiosk", "k1", "--unit", "Sở Xây dựng"], env)
    secret = added.stdout.strip()
    assert len(secret) == 64 and int(secret, 16) >= 0
    again = invoke(["add-kiosk", "k1", "--unit", "Sở Xây dựng"], env)
    assert (again.exit_code, again.output) == (1, "Error: Kiosk 'k1' is already registered.\n")
    token = invoke(["add-token", "reports"], env).stdout.strip()
    assert len(token) >= 40
    assert invoke(["add-token", "reports"], env).output == "Error: A token named 'reports' already exists.\n"


@pytest.mark.parametrize("args, message", [
    (["add-kiosk", "quầy 1", "--unit", "U"], "Error: KIOSK_ID must be 1 to 64 letters, digits, '.', '_' or '-', "
                                              "not 'quầy 1'.\n"),
    (["add-kiosk", "k1", "--unit", "a\tb"], "Error: --unit must be 1 to 64 printable characters.\n"),
])
def test_bad_arguments_are_refused(env, args, message):
    invoke(["init"], env)
    assert invoke(args, env).output == message


@pytest.mark.parametrize("command", sorted(central.commands))
def test_every_central_command_has_help_and_is_in_the_readme(command):
    result = invoke([command, "--help"], {})
    assert result.exit_code == 0 and len(result.output) > 60
    assert f"central {command}" in README.read_text(encoding="utf-8")


def test_kiosk_sync_has_help_and_is_in_the_readme():
    result = CliRunner().invoke(kiosk_sync, ["--help"])
    assert result.exit_code == 0 and "KIOSK_SECRET" in result.output and "--once" in result.output
    assert "kiosk-sync --once" in README.read_text(encoding="utf-8")


def test_add_user_reads_the_password_from_stdin(env):
    invoke(["init"], env)
    runner = CliRunner()
    made = runner.invoke(central, ["add-user", "sup-a", "--role", "supervisor", "--unit", "Unit A"], env=env,
                         input="một-mật-khẩu-dài\n")
    assert (made.exit_code, made.output) == (0, "User sup-a (supervisor, Unit A) created.\n")
    short = runner.invoke(central, ["add-user", "x1", "--role", "admin"], env=env, input="short\n")
    assert short.output == "Error: The password must have at least 10 characters; nothing was changed.\n"
    no_unit = runner.invoke(central, ["add-user", "o1", "--role", "officer"], env=env, input="long-enough-1\n")
    assert no_unit.output == ("Error: An officer login is linked to its roster entry: give --officer ID "
                              "(see `central officer list`).\n")
    bad_role = runner.invoke(central, ["add-user", "o1", "--role", "boss"], env=env, input="long-enough-1\n")
    assert bad_role.exit_code == 2 and "'boss' is not one of 'admin', 'supervisor', 'officer'" in bad_role.output
