"""`central questionnaire publish|list` and `central kiosk-settings set|unset|list` (issue 13): the kiosk's own
checker refuses a broken file naming the field (exit 2, nothing stored); every version is kept; a unit's own
questionnaire or setting beats the every-unit one."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpers import UNIT, invoke
from kiosk.clock import now_utc
from sync.central.store import accounts, fleet, schema

GOOD = (Path(__file__).resolve().parent.parent / "kiosk" / "questionnaire.toml").read_text(encoding="utf-8")


def questionnaire_file(tmp_path, version="2027.1", source=GOOD, name="q.toml"):
    path = tmp_path / name
    path.write_text(source.replace('version = "2026.1"', f'version = "{version}"', 1), encoding="utf-8")
    return path


def stored(engine):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.questionnaires)).scalar()


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s.replace('key = "overall"', 'key = "Overall"', 1), "questions[0].key must be lower-case letters"),
    (lambda s: s.replace('version = "2026.1"', 'version = ""', 1), "version is empty"),
    (lambda s: s.replace("[[questions]]", "[[questions", 1), "not valid TOML"),
    (lambda s: s.replace('kind = "rating"', 'kind = "stars"', 1), "questions[0].kind must be"),
])
def test_a_broken_questionnaire_is_refused_naming_the_field_and_nothing_is_stored(
        tmp_path, central_env, central_engine, change, message):
    assert "2026.1" in GOOD
    path = tmp_path / "broken.toml"
    path.write_text(change(GOOD), encoding="utf-8")
    result = invoke(["questionnaire", "publish", str(path)], central_env)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"Error: {path}: ") and message in result.output
    assert stored(central_engine) == 0


def test_every_version_is_kept_and_the_units_own_beats_every_unit(tmp_path, central_env, central_engine,
                                                                  kiosk_secret):
    first = questionnaire_file(tmp_path, "2027.1", name="a.toml")
    result = invoke(["questionnaire", "publish", str(first)], central_env)
    assert result.exit_code == 0 and "Published questionnaire 2027.1 (#1) for every unit" in result.output
    own = questionnaire_file(tmp_path, "2027.2-unit", name="b.toml")
    assert invoke(["questionnaire", "publish", str(own), "--unit", UNIT], central_env).exit_code == 0
    later = questionnaire_file(tmp_path, "2027.3", name="c.toml")
    assert invoke(["questionnaire", "publish", str(later)], central_env).exit_code == 0
    assert stored(central_engine) == 3
    assert fleet.newest_questionnaire(central_engine, UNIT)["version"] == "2027.2-unit"
    assert fleet.newest_questionnaire(central_engine, "Another unit")["version"] == "2027.3"
    assert fleet.newest_questionnaire(central_engine, UNIT)["source"] == own.read_text(encoding="utf-8")

    again = invoke(["questionnaire", "publish", str(later)], central_env)
    assert again.exit_code == 0 and "already the newest for every unit: nothing changed" in again.output
    clash = questionnaire_file(tmp_path, "2027.1", GOOD.replace("Ông/Bà", "Quý khách", 1), name="d.toml")
    refused = invoke(["questionnaire", "publish", str(clash)], central_env)
    assert refused.exit_code == 2 and "version '2027.1' was published before with other content" in refused.output
    unknown = invoke(["questionnaire", "publish", str(first), "--unit", "Sở Không Có"], central_env)
    assert unknown.exit_code == 2 and "No kiosk and no roster entry has the unit 'Sở Không Có'" in unknown.output
    assert stored(central_engine) == 3


def test_the_list_says_which_kiosks_run_which_version(tmp_path, central_env, central_engine, kiosk_secret):
    accounts.add_kiosk(central_engine, "k-2", UNIT)
    accounts.add_kiosk(central_engine, "k-3", UNIT)
    assert invoke(["questionnaire", "publish", str(questionnaire_file(tmp_path, "2027.1"))], central_env).exit_code == 0
    fleet.save_health(central_engine, "test-kiosk", {"questionnaire_version": "2027.1"}, now_utc())
    fleet.save_health(central_engine, "k-2", {"questionnaire_version": "2026.1"}, now_utc())
    output = invoke(["questionnaire", "list"], central_env).output
    assert "#1  2027.1  for every unit" in output and "running on 1 kiosk(s): test-kiosk" in output
    assert "  2026.1: k-2\n" in output and "  2027.1: test-kiosk\n" in output and "  (not reported): k-3\n" in output


def test_setting_overrides_are_checked_and_kept_per_unit(central_env, central_engine, kiosk_secret):
    assert invoke(["kiosk-settings", "set", "KIOSK_IDLE_SECONDS", "90"], central_env).exit_code == 0
    result = invoke(["kiosk-settings", "set", "KIOSK_IDLE_SECONDS", "60", "--unit", UNIT], central_env)
    assert result.exit_code == 0 and f"KIOSK_IDLE_SECONDS=60 for unit {UNIT}" in result.output
    assert fleet.overrides_for(central_engine, UNIT) == {"KIOSK_IDLE_SECONDS": "60"}
    assert fleet.overrides_for(central_engine, "Other") == {"KIOSK_IDLE_SECONDS": "90"}
    for args, message in [(["KIOSK_IDLE_SECONDS", "1"], "Error: KIOSK_IDLE_SECONDS must be a whole number from 3"),
                          (["KIOSK_SECRET", "ab"], "Error: KIOSK_SECRET is not a kiosk setting central may set"),
                          (["KIOSK_MIN_SECONDS", "3", "--unit", "Nowhere"], "Error: No kiosk and no roster entry")]:
        refused = invoke(["kiosk-settings", "set", *args], central_env)
        assert refused.exit_code == 2 and refused.output.startswith(message), refused.output
    assert len(fleet.override_list(central_engine)) == 2
    assert "KIOSK_IDLE_SECONDS=60  for unit" in invoke(["kiosk-settings", "list"], central_env).output
    assert invoke(["kiosk-settings", "unset", "KIOSK_IDLE_SECONDS", "--unit", UNIT], central_env).exit_code == 0
    assert fleet.overrides_for(central_engine, UNIT) == {"KIOSK_IDLE_SECONDS": "90"}
    missing = invoke(["kiosk-settings", "unset", "KIOSK_IDLE_SECONDS", "--unit", UNIT], central_env)
    assert missing.exit_code == 2 and "Central has no value of KIOSK_IDLE_SECONDS" in missing.output
