"""The configuration exchange at central (issue 13): POST /api/v1/kiosk-config, signed both ways, the nonce
echoed, the health report kept, a malformed body refused with nothing stored."""

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from helpers import UNIT, assert_error, config_request, post
from kiosk.clock import now_utc, utc_iso
from sync import wire
from sync.central import kioskconfig
from sync.central.store import accounts, fleet, roster, schema

QUESTIONNAIRE = Path(__file__).resolve().parent.parent / "kiosk" / "questionnaire.toml"
NONCE = "6f1c1a52-3b7e-4f0e-9a55-3d1f6e0b2a11"


def health_rows(engine):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.kiosk_health)).scalar()


def test_answer_is_signed_over_the_nonce_and_echoes_it(central_client, central_engine, kiosk_secret):
    reply = config_request(central_client, kiosk_secret, {"software_version": "0.1.0"})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    body = reply.get_data()
    assert wire.answer_signature_matches(kiosk_secret, reply.nonce, body,
                                         reply.headers.get(wire.CENTRAL_SIGNATURE_HEADER))
    assert not wire.answer_signature_matches("0" * 64, reply.nonce, body,
                                             reply.headers.get(wire.CENTRAL_SIGNATURE_HEADER))
    answer = json.loads(body)
    assert answer["nonce"] == reply.nonce
    assert list(answer) == ["nonce", "config_version", "unit", "counters", "officers", "questionnaire", "settings"]
    assert answer["unit"]["code"] == UNIT and answer["questionnaire"] is None and answer["settings"] == {}
    rest = {k: v for k, v in answer.items() if k not in ("nonce", "config_version")}
    expected = hashlib.sha256(json.dumps(rest, sort_keys=True, ensure_ascii=False,
                                         separators=(",", ":")).encode()).hexdigest()
    assert answer["config_version"] == expected


def test_two_requests_get_their_own_nonce_and_one_config_version(central_client, kiosk_secret):
    first, second = (config_request(central_client, kiosk_secret) for _ in range(2))
    assert first.get_json()["nonce"] != second.get_json()["nonce"]
    assert first.get_json()["config_version"] == second.get_json()["config_version"]


@pytest.mark.parametrize(("change", "status", "fragment"), [
    ({"kiosk": "nobody"}, 401, "Unknown kiosk 'nobody'"),
    ({"secret": "ab" * 32}, 401, "The signature does not match"),
    ({"timestamp": 1_000_000}, 401, "possible replay"),
])
def test_a_request_not_signed_by_the_kiosk_is_refused_and_nothing_is_stored(
        central_client, central_engine, kiosk_secret, change, status, fragment):
    body = json.dumps({"nonce": NONCE, "health": {"pending": 3}}).encode()
    reply = post(central_client, change.get("secret", kiosk_secret), body=body, kiosk=change.get("kiosk", "test-kiosk"),
                 timestamp=change.get("timestamp"), path="/api/v1/kiosk-config")
    assert_error(reply, status, fragment)
    assert wire.CENTRAL_SIGNATURE_HEADER not in reply.headers
    assert health_rows(central_engine) == 0


@pytest.mark.parametrize(("payload", "fragment"), [
    (b"not json", "The body is not valid JSON"),
    ([1, 2], "The body must be a JSON object"),
    ({"health": {}}, "nonce must be a UUID"),
    ({"nonce": "6F1C1A52-3B7E-4F0E-9A55-3D1F6E0B2A11"}, "nonce must be a UUID"),
    ({"nonce": None, "health": "ok"}, "health must be an object"),
    ({"nonce": NONCE, "health": {"pending": -1}}, "health.pending must be a whole number from 0"),
    ({"nonce": NONCE, "health": {"pending": "3"}}, "health.pending must be a whole number"),
    ({"nonce": NONCE, "health": {"free_disk_bytes": True}}, "health.free_disk_bytes must be a whole number"),
    ({"nonce": NONCE, "health": {"software_version": "x" * 41}}, "health.software_version must be text of at most 40"),
    ({"nonce": NONCE, "health": {"last_error": "e" * 501}}, "health.last_error must be text of at most 500"),
    ({"nonce": NONCE, "health": {"clock_utc": "2026-01-31 08:15"}}, "health.clock_utc must be a UTC time"),
    ({"nonce": NONCE, "health": {"last_error_utc": 5}}, "health.last_error_utc must be text"),
])
def test_a_malformed_body_is_a_400_naming_the_field_and_nothing_is_stored(
        central_client, central_engine, kiosk_secret, payload, fragment):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    reply = post(central_client, kiosk_secret, body=body, path="/api/v1/kiosk-config")
    assert_error(reply, 400, fragment)
    nonce = payload.get("nonce") if isinstance(payload, dict) and wire.is_uuid(payload.get("nonce")) else ""
    assert wire.answer_signature_matches(kiosk_secret, nonce, reply.get_data(),
                                         reply.headers.get(wire.CENTRAL_SIGNATURE_HEADER))
    assert health_rows(central_engine) == 0


def test_the_health_report_is_kept_with_its_clock_offset(central_client, central_engine, kiosk_secret):
    ahead = now_utc() + timedelta(minutes=5)
    report = {"software_version": "0.2.0", "questionnaire_version": "2026.1", "config_version": None,
              "pending": 12, "oldest_pending_age_s": 3600, "clock_utc": utc_iso(ahead),
              "free_disk_bytes": 8_000_000_000, "last_error": "central refused: 503",
              "last_error_utc": "2026-11-29T01:00:00+07:00", "something_new": {"ignored": True}}
    assert config_request(central_client, kiosk_secret, report).status_code == 200
    stored = fleet.get_health(central_engine, "test-kiosk")
    assert {k: stored[k] for k in ("software_version", "questionnaire_version", "config_version", "pending",
                                   "oldest_pending_age_s", "free_disk_bytes", "last_error")} == {
        "software_version": "0.2.0", "questionnaire_version": "2026.1", "config_version": None, "pending": 12,
        "oldest_pending_age_s": 3600, "free_disk_bytes": 8_000_000_000, "last_error": "central refused: 503"}
    assert stored["last_error_utc"] == "2026-11-28T18:00:00.000Z"
    assert 295 <= stored["clock_offset_s"] <= 300

    assert config_request(central_client, kiosk_secret, None).status_code == 200  # an old uploader: no report
    stored = fleet.get_health(central_engine, "test-kiosk")
    assert stored["software_version"] is None and stored["clock_offset_s"] is None
    assert health_rows(central_engine) == 1


def test_the_answer_carries_the_unit_questionnaire_and_overrides(central_client, central_engine, kiosk_secret):
    source = QUESTIONNAIRE.read_text(encoding="utf-8")
    fleet.publish_questionnaire(central_engine, "every-1", None, source, "x" * 64, "admin", now_utc())
    fleet.set_override(central_engine, "KIOSK_IDLE_SECONDS", None, "90", "admin", now_utc())
    fleet.set_override(central_engine, "KIOSK_BURST_LIMIT", UNIT, "9", "admin", now_utc())
    fleet.set_override(central_engine, "KIOSK_BURST_LIMIT", "Other unit", "50", "admin", now_utc())
    answer = config_request(central_client, kiosk_secret).get_json()
    assert answer["questionnaire"] == {"version": "every-1", "source": source}
    assert answer["settings"] == {"KIOSK_IDLE_SECONDS": 90, "KIOSK_BURST_LIMIT": 9}
    before = answer["config_version"]
    fleet.publish_questionnaire(central_engine, "unit-1", UNIT, source, "y" * 64, "admin", now_utc())
    fleet.publish_questionnaire(central_engine, "every-2", None, source, "z" * 64, "admin", now_utc())
    answer = config_request(central_client, kiosk_secret).get_json()
    assert answer["questionnaire"]["version"] == "unit-1"  # the unit's own beats a newer every-unit one
    assert answer["config_version"] != before


def test_another_kiosk_gets_its_own_unit(central_client, central_engine, kiosk_secret):
    other = accounts.add_kiosk(central_engine, "k-other", "Đơn vị khác")
    fleet.set_override(central_engine, "KIOSK_IDLE_SECONDS", "Đơn vị khác", "45", "admin", now_utc())
    answer = config_request(central_client, other, kiosk="k-other").get_json()
    assert answer["unit"]["code"] == "Đơn vị khác" and answer["settings"] == {"KIOSK_IDLE_SECONDS": 45}
    assert config_request(central_client, kiosk_secret).get_json()["settings"] == {}


@pytest.mark.parametrize(("name", "value", "fragment"), [
    ("KIOSK_DB", "/tmp/x.db", "KIOSK_DB is not a kiosk setting central may set"),
    ("KIOSK_IDLE_SECONDS", "2", "KIOSK_IDLE_SECONDS must be a whole number from 3 to 3600"),
    ("KIOSK_IDLE_SECONDS", "ninety", "not 'ninety'"),
])
def test_an_override_is_checked_by_the_registry(name, value, fragment):
    with pytest.raises(kioskconfig.registry.SettingError, match=fragment):
        kioskconfig.check_override(name, value)


def test_an_override_its_setting_now_refuses_is_left_out():
    assert kioskconfig.setting_values({"KIOSK_IDLE_SECONDS": "99999", "KIOSK_MIN_SECONDS": "4",
                                       "KIOSK_DB": "/x"}) == {"KIOSK_MIN_SECONDS": 4}


def test_the_answer_lists_the_units_active_roster(central_client, central_engine, kiosk_secret):
    roster.add_unit(central_engine, UNIT, "Sở Xây dựng tỉnh")
    roster.add_counter(central_engine, UNIT, "Q2", "Quầy 2")
    roster.add_counter(central_engine, UNIT, "Q1", "Quầy 1")
    hung = roster.add_officer(central_engine, UNIT, "Nguyễn Văn Hùng")
    gone = roster.add_officer(central_engine, UNIT, "Trần Thị Bích")
    roster.retire_officer(central_engine, gone)
    roster.add_unit(central_engine, "Đơn vị khác", "Đơn vị khác")
    roster.add_officer(central_engine, "Đơn vị khác", "Lê Văn An")
    answer = config_request(central_client, kiosk_secret).get_json()
    assert answer["unit"] == {"code": UNIT, "name": "Sở Xây dựng tỉnh"}
    assert answer["counters"] == [{"id": "Q1", "name": "Quầy 1"}, {"id": "Q2", "name": "Quầy 2"}]
    assert answer["officers"] == [{"id": hung, "name": "Nguyễn Văn Hùng"}]
