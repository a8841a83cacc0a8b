"""`kiosk` commands: exact messages for every missing or wrong setting."""

import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import ANSWERS, Citizen
from kiosk import store
from kiosk.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def runner():
    return CliRunner()


def invoke(runner, args, env, input=None):
    return runner.invoke(cli, args, env=env, input=input, catch_exceptions=False)


@pytest.mark.parametrize("command", ["init", "run", "verify", "set-pin"])
def test_missing_kiosk_db_is_named(runner, command):
    result = invoke(runner, [command], {})
    assert result.exit_code == 1
    assert result.output == ("Error: KIOSK_DB is not set: give the path of the kiosk's SQLite file, "
                             "e.g. KIOSK_DB=/var/lib/kiosk/kiosk.db.\n")


@pytest.mark.parametrize("env, message", [
    ({"KIOSK_ID": ""}, "Error: KIOSK_ID is not set: give this kiosk's id, e.g. KIOSK_ID=mc-quay-01.\n"),
    ({"KIOSK_ID": "quầy 1"}, "Error: KIOSK_ID must be 1 to 64 letters, digits, '.', '_' or '-', "
                            "starting with a letter or digit, not 'quầy 1'.\n"),
])
def test_bad_kiosk_id_is_named(runner, kiosk_env, env, message):
    result = invoke(runner, ["init"], {**kiosk_env, **env})
    assert result.exit_code == 1 and result.output == message


def test_init_then_init_again(runner, kiosk_env):
    first = invoke(runner, ["init"], kiosk_env)
    db = store.connect(kiosk_env["KIOSK_DB"])
    made = store.installs(db)
    db.close()
    assert len(made) == 1 and made[0]["from_seq"] == 1 and made[0]["parent"] is None
    assert first.output == (f"Created the database {kiosk_env['KIOSK_DB']} for kiosk test-kiosk.\n"
                            f"Store id {made[0]['id']}, from response #1.\n")
    again = invoke(runner, ["init"], kiosk_env)
    assert again.output == (f"Checked the database {kiosk_env['KIOSK_DB']} for kiosk test-kiosk.\n"
                            f"Store id {made[0]['id']}, from response #1.\n")


def test_run_before_init_says_what_to_do(runner, kiosk_env):
    result = invoke(runner, ["run"], kiosk_env)
    assert result.exit_code == 1
    assert result.output == (f"Error: KIOSK_DB names {kiosk_env['KIOSK_DB']}, which does not exist: "
                             "run `kiosk init` first.\n")


@pytest.mark.parametrize("name, value, message", [
    ("KIOSK_IDLE_SECONDS", "soon", "Error: KIOSK_IDLE_SECONDS must be a whole number from 3 to 3600 "
     "(seconds without a tap before the survey returns to the welcome screen), not 'soon'.\n"),
    ("KIOSK_BURST_LIMIT", "0", "Error: KIOSK_BURST_LIMIT must be a whole number from 1 to 1000 "
     "(more identical responses than this within KIOSK_BURST_WINDOW are flagged burst), not '0'.\n"),
])
def test_run_with_a_wrong_tunable_names_it(runner, kiosk_env, name, value, message):
    invoke(runner, ["init"], kiosk_env)
    result = invoke(runner, ["run"], {**kiosk_env, name: value})
    assert result.exit_code == 1 and result.output == message


def test_run_with_a_broken_questionnaire_names_the_field(runner, kiosk_env, tmp_path):
    from kiosk.config import DEFAULT_QUESTIONNAIRE
    broken = tmp_path / "q.toml"
    broken.write_text(DEFAULT_QUESTIONNAIRE.read_text(encoding="utf-8").replace(
        'key = "attitude"\nkind = "rating"', 'key = "attitude"\nkind = "stars"'), encoding="utf-8")
    invoke(runner, ["init"], kiosk_env)
    result = invoke(runner, ["run"], {**kiosk_env, "KIOSK_QUESTIONNAIRE": str(broken)})
    assert result.exit_code == 1
    assert result.output == f"Error: {broken}: questions[2].kind must be 'rating' or 'choice', not 'stars'.\n"


def test_verify_passes_then_names_a_tampered_row(runner, kiosk_env, make_app):
    app = make_app()
    citizen = Citizen(app.test_client())
    for _ in range(3):
        citizen.full_response(ANSWERS)
    assert invoke(runner, ["verify"], kiosk_env).output == "OK: 3 responses, sequence and hash chain intact.\n"
    conn = sqlite3.connect(kiosk_env["KIOSK_DB"])
    conn.execute("DROP TRIGGER responses_no_update")
    conn.execute("UPDATE responses SET answers = '{\"overall\":5}' WHERE seq = 2")
    conn.commit()
    conn.close()
    result = invoke(runner, ["verify"], kiosk_env)
    assert result.exit_code == 1
    assert re.fullmatch(r"Error: Response #2 \([0-9a-f-]{36}\): its content does not match its hash "
                        r"\(altered\)\. \(1 responses before it are intact\.\)\n", result.output)


@pytest.mark.parametrize("pin, ok", [("2468", True), ("12", False), ("12345678901", False), ("abcd", False)])
def test_set_pin_reads_one_line_from_stdin(runner, kiosk_env, pin, ok):
    invoke(runner, ["init"], kiosk_env)
    result = invoke(runner, ["set-pin"], kiosk_env, input=pin + "\n")
    if ok:
        assert result.exit_code == 0 and result.output == "The staff PIN is set.\n"
    else:
        assert result.exit_code == 1
        assert result.output == "Error: The PIN must be 4 to 8 digits; nothing was changed.\n"


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help_and_is_in_the_readme(runner, command):
    result = invoke(runner, [command, "--help"], {})
    assert result.exit_code == 0 and len(result.output) > 60
    assert f"kiosk {command}" in README.read_text(encoding="utf-8")
