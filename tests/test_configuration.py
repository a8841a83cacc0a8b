"""The configuration exchange against a real `central run` on loopback (sync.configuration): a valid
configuration is stored whole; a broken questionnaire, a bad signature, a wrong nonce and a central
that is down all keep the last good one; an older central without the endpoint is skipped quietly."""

import hashlib
import json
from datetime import timedelta

import pytest

from conftest import kiosk_sync, sqlite_only
from helpers import UNIT, add_responses, questionnaire_source
from kiosk import central_config, store
from kiosk.clock import now_utc, utc_iso
from loopback_proxy import AnswerRewriter
from sync import configuration, wire
from sync.central.store import database, fleet, roster
from sync.uploader import Uploader


@pytest.fixture
def central(live_central, central_url):
    """A running central with kiosk test-kiosk's unit in the roster: counter Q1, officers Hùng and Lan."""
    engine = database.engine_for(central_url)
    roster.add_unit(engine, UNIT, "Bộ phận Một cửa – Sở Xây dựng")
    roster.add_counter(engine, UNIT, "Q1", "Quầy 1")
    roster.add_officer(engine, UNIT, "Nguyễn Văn Hùng", "cb-hung")
    roster.add_officer(engine, UNIT, "Trần Thị Lan", "cb-lan")
    live_central.engine = engine
    yield live_central.start()
    engine.dispose()


@pytest.fixture
def kiosk_db(tmp_path):
    path = tmp_path / "kiosk.db"
    store.init(path, "test-kiosk")
    return path


def exchange(kiosk_db, central, url=None):
    uploader = Uploader(kiosk_db, "test-kiosk", central.secret, url or central.url)
    try:
        return configuration.exchange(uploader)
    finally:
        uploader.session.close()


def kept(kiosk_db):
    with store.connect(kiosk_db) as db:
        return central_config.current(db), store.get_setting(db, "config_problem")


def publish(central, version, source=None):
    source = source or questionnaire_source(version)
    fleet.publish_questionnaire(central.engine, version, None, source, hashlib.sha256(source.encode()).hexdigest(),
                                "tests", now_utc())


def test_a_valid_configuration_is_stored_whole_and_the_health_report_reaches_central(central, kiosk_db):
    publish(central, "2026.9")
    assert central.cli("kiosk-settings", "set", "KIOSK_IDLE_SECONDS", "90").returncode == 0
    add_responses(kiosk_db, 2)  # pending: the report counts them
    outcome = exchange(kiosk_db, central)
    assert outcome.status == "applied"
    config, problem = kept(kiosk_db)
    assert problem is None and config.version == outcome.version
    assert config.officers == (("cb-hung", "Nguyễn Văn Hùng"), ("cb-lan", "Trần Thị Lan"))
    assert config.counters == (("Q1", "Quầy 1"),) and config.settings == {"idle_seconds": 90}
    assert config.questionnaire.version == "2026.9" and config.unit["name"] == "Bộ phận Một cửa – Sở Xây dựng"
    health = fleet.get_health(central.engine, "test-kiosk")
    assert health["pending"] == 2 and health["free_disk_bytes"] > 0 and abs(health["clock_offset_s"]) <= 5
    assert health["config_version"] is None  # the report went out before this configuration came in
    assert exchange(kiosk_db, central).status == "unchanged"
    health = fleet.get_health(central.engine, "test-kiosk")
    assert health["config_version"] == outcome.version and health["questionnaire_version"] == "2026.9"


def test_a_broken_questionnaire_from_central_is_refused_and_the_old_one_kept(central, kiosk_db):
    publish(central, "2026.9")
    good = exchange(kiosk_db, central).version
    roster.add_officer(central.engine, UNIT, "Lê Văn Mới", "cb-moi")
    # Stored past `central questionnaire publish`'s check, as a central with an older checker might have.
    publish(central, "2026.10", questionnaire_source("2026.10").replace('kind = "rating"', 'kind = "stars"', 1))
    outcome = exchange(kiosk_db, central)
    assert outcome.status == "refused" and "questions[0].kind must be 'rating' or 'choice'" in outcome.detail
    config, problem = kept(kiosk_db)
    assert config.version == good and config.questionnaire.version == "2026.9"
    assert config.officer_name("cb-moi") is None  # nothing of the refused one, not even its roster
    assert "questions[0].kind" in problem


def altered_officer(request_body, status, headers, body):
    answer = json.loads(body)
    answer["officers"][0]["name"] = "Kẻ Mạo Danh"
    return status, headers, json.dumps(answer, ensure_ascii=False).encode()


@sqlite_only
def test_an_answer_with_a_bad_signature_is_ignored(central, kiosk_db):
    good = exchange(kiosk_db, central).version
    roster.add_officer(central.engine, UNIT, "Lê Văn Mới", "cb-moi")  # a real change on its way...
    proxy = AnswerRewriter(central.url, altered_officer)  # ...altered between central and the kiosk
    try:
        outcome = exchange(kiosk_db, central, proxy.url)
    finally:
        proxy.close()
    assert outcome.status == "refused" and "not signed with this kiosk's secret" in outcome.detail
    config, _problem = kept(kiosk_db)
    assert config.version == good and config.officer_name("cb-hung") == "Nguyễn Văn Hùng"


@sqlite_only
def test_an_answer_to_another_request_is_ignored(central, kiosk_db):
    """A replayed answer: central's real answer to an earlier request. As sent it fails the signature
    (signed over the earlier nonce); even re-signed with the secret over this request's nonce, the nonce
    inside it is the earlier one."""
    old = {}

    def record(request_body, status, headers, body):
        old.update(body=body)
        return status, headers, body

    proxy = AnswerRewriter(central.url, record)
    exchange(kiosk_db, central, proxy.url)
    with store.connect(kiosk_db) as db, store.write(db):
        db.execute("DELETE FROM central_config")
    roster.retire_officer(central.engine, "cb-lan")

    def replay(request_body, status, headers, body):
        return status, headers, old["body"]

    def replay_resigned(request_body, status, headers, body):
        nonce = json.loads(request_body)["nonce"]
        return status, {**headers, wire.CENTRAL_SIGNATURE_HEADER: wire.sign(central.secret, nonce, old["body"])}, \
            old["body"]

    try:
        proxy.rewrite = replay
        assert "not signed" in exchange(kiosk_db, central, proxy.url).detail
        proxy.rewrite = replay_resigned
        outcome = exchange(kiosk_db, central, proxy.url)
    finally:
        proxy.close()
    assert outcome.status == "refused" and "wrong nonce" in outcome.detail
    assert kept(kiosk_db)[0] is None


@sqlite_only
def test_with_central_down_the_kiosk_keeps_its_last_configuration(central, kiosk_db, tmp_path):
    env = {"KIOSK_DB": str(kiosk_db), "KIOSK_ID": "test-kiosk", "KIOSK_SECRET": central.secret,
           "CENTRAL_URL": central.url}
    assert kiosk_sync(env, "--once").returncode == 0
    good = kept(kiosk_db)[0]
    assert good.officer_name("cb-hung") == "Nguyễn Văn Hùng"
    central.stop()
    done = kiosk_sync(env, "--once")  # nothing pending: the upload has nothing to say; the fetch fails
    assert "cannot fetch the configuration" in done.stderr and "last good configuration stays" in done.stderr
    config, problem = kept(kiosk_db)
    assert config == good and "cannot fetch the configuration" in problem


def test_an_older_central_without_the_endpoint_is_skipped_quietly(kiosk_db, older_central):
    uploader = Uploader(kiosk_db, "test-kiosk", "ab" * 32, older_central.url)
    try:
        assert configuration.exchange(uploader).status == "absent"
    finally:
        uploader.session.close()
    assert older_central.asked == ["/api/v1/kiosk-config"]
    assert kept(kiosk_db) == (None, None)


def test_the_health_report_counts_what_is_pending_and_says_the_last_error(kiosk_db):
    add_responses(kiosk_db, 3, now=now_utc() - timedelta(minutes=10))
    with store.connect(kiosk_db) as db:
        with store.write(db):
            store.set_setting(db, "sync_last_error", "cannot reach central")
            store.set_setting(db, "sync_last_error_utc", utc_iso(now_utc()))
            store.set_setting(db, "local_questionnaire_version", "2026.1")
        report = configuration.health_report(db, kiosk_db)
    assert report["pending"] == 3 and 595 <= report["oldest_pending_age_s"] <= 700
    assert report["last_error"] == "cannot reach central" and report["questionnaire_version"] == "2026.1"
    assert "config_version" not in report and report["software_version"]
    assert report["free_disk_bytes"] > 0 and report["clock_utc"].endswith("Z")
