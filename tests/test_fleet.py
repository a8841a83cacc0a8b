"""The fleet's states (sync.central.fleet) and the fleet page (issue 13, item 6): silent, failing, clock off,
disk low, outdated, ok, worst first; admins see every unit, supervisors their own, officers none."""

import re
from datetime import timedelta

import pytest

from helpers import add_officer_login, log_in
from kiosk.clock import now_utc, utc_iso
from sync.central import fleet
from sync.central.store import accounts
from sync.central.store import fleet as fleet_store

NOW = now_utc()


def report(**change):
    """A healthy report received a minute ago, with `change` applied."""
    row = {"kiosk_id": "k", "unit": "Unit A", "last_batch_utc": utc_iso(NOW - timedelta(minutes=1)),
           "received_utc": utc_iso(NOW - timedelta(minutes=1)), "software_version": "0.2.0",
           "questionnaire_version": "2027.1", "clock_utc": utc_iso(NOW - timedelta(minutes=1)), "clock_offset_s": 3,
           "free_disk_bytes": 8_000_000_000, "last_error": None, "last_error_utc": None}
    row.update(change)
    return row


@pytest.mark.parametrize(("change", "expected"), [
    ({}, ["ok"]),
    ({"received_utc": utc_iso(NOW - timedelta(days=1, minutes=1)),
      "last_batch_utc": utc_iso(NOW - timedelta(days=2))}, ["silent"]),
    ({"received_utc": None, "last_batch_utc": utc_iso(NOW - timedelta(hours=23))}, ["ok"]),
    ({"received_utc": None, "last_batch_utc": None, "software_version": None, "clock_offset_s": None,
      "free_disk_bytes": None, "questionnaire_version": None}, ["silent"]),
    ({"last_error": "503", "last_error_utc": utc_iso(NOW - timedelta(minutes=30))}, ["failing"]),
    ({"last_error": "503", "last_error_utc": utc_iso(NOW - timedelta(hours=2))}, ["ok"]),
    ({"clock_offset_s": 121}, ["clock_off"]),
    ({"clock_offset_s": -121}, ["clock_off"]),
    ({"clock_offset_s": 120}, ["ok"]),
    ({"free_disk_bytes": 499_999_999}, ["disk_low"]),
    ({"free_disk_bytes": 500_000_000}, ["ok"]),
    ({"software_version": "0.1.9"}, ["outdated"]),
    ({"software_version": "0.10.0"}, ["ok"]),
    ({"questionnaire_version": "2026.1"}, ["outdated"]),
    ({"free_disk_bytes": 1, "clock_offset_s": 600, "software_version": "0.1.0"},
     ["clock_off", "disk_low", "outdated"]),
])
def test_states_of_one_kiosk(change, expected):
    assert fleet.states(report(**change), NOW, "0.2.0", "2027.1") == expected


def test_no_published_questionnaire_means_no_questionnaire_is_outdated():
    assert fleet.states(report(questionnaire_version="anything"), NOW, None, None) == ["ok"]


def test_the_worst_come_first_and_a_units_questionnaire_beats_every_units():
    rows = [report(kiosk_id="a-ok"), report(kiosk_id="b-disk", free_disk_bytes=1),
            report(kiosk_id="c-silent", received_utc=None, last_batch_utc=None),
            report(kiosk_id="d-two", free_disk_bytes=1, clock_offset_s=999),
            report(kiosk_id="e-old", software_version="0.1.0"),
            report(kiosk_id="f-failing", last_error="x", last_error_utc=utc_iso(NOW)),
            report(kiosk_id="g-unit-b", unit="Unit B", questionnaire_version="b-1")]
    ranked = fleet.ranked(rows, NOW, {None: "2027.1", "Unit B": "b-1"})
    assert [r["kiosk_id"] for r in ranked] == ["c-silent", "f-failing", "d-two", "b-disk", "e-old", "a-ok",
                                               "g-unit-b"]


@pytest.fixture
def fleet_site(login_app, central_engine):
    """Three kiosks of Unit A (silent, disk low, ok) and one of Unit B (failing); an officer of Unit A."""
    for kiosk_id, unit in [("a-silent", "Unit A"), ("a-disk", "Unit A"), ("a-ok", "Unit A"), ("b-fail", "Unit B")]:
        accounts.add_kiosk(central_engine, kiosk_id, unit)
    healthy = {"software_version": "0.2.0", "questionnaire_version": "2026.1", "pending": 0,
               "clock_offset_s": 1, "free_disk_bytes": 9_000_000_000, "clock_utc": utc_iso(NOW)}
    fleet_store.save_health(central_engine, "a-silent", healthy, NOW - timedelta(days=3))
    fleet_store.save_health(central_engine, "a-disk", {**healthy, "free_disk_bytes": 120_000_000, "pending": 1234,
                                                       "oldest_pending_age_s": 7500}, NOW)
    fleet_store.save_health(central_engine, "a-ok", healthy, NOW)
    fleet_store.save_health(central_engine, "b-fail", {**healthy, "last_error": "Central trả lời 503",
                                                       "last_error_utc": utc_iso(NOW)}, NOW)
    add_officer_login(central_engine, "an", "Unit A", "An", "cb-an")
    return login_app.test_client()


def kiosks_in_order(html):
    return re.findall(r'<th scope="row">([^<]+)<span', html)


def test_an_admin_sees_every_kiosk_worst_first_in_vietnamese(fleet_site):
    log_in(fleet_site, "admin")
    page = fleet_site.get("/fleet")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert kiosks_in_order(html) == ["a-silent", "b-fail", "a-disk", "a-ok"]
    for words in ("Im lặng", "Đang lỗi", "Sắp đầy bộ nhớ", "Bình thường", "Central trả lời 503", "120 MB",
                  "1.234", "lâu nhất 2 giờ 05 phút", "nhanh 1 giây"):
        assert words in html, words
    fleet_site.get("/lang/en")
    html = fleet_site.get("/fleet").get_data(as_text=True)
    assert "Silent" in html and "Disk low" in html and "1,234" in html and "oldest 2 h 05 min" in html


def test_a_supervisor_sees_only_their_unit(fleet_site):
    log_in(fleet_site, "sup-a")
    assert kiosks_in_order(fleet_site.get("/fleet").get_data(as_text=True)) == ["a-silent", "a-disk", "a-ok"]
    assert fleet_site.get("/fleet?unit=Unit%20B").status_code == 403


def test_an_officer_has_no_fleet_page(fleet_site):
    log_in(fleet_site, "an")
    assert fleet_site.get("/fleet").status_code == 403


def test_an_admin_may_pick_one_unit(fleet_site):
    log_in(fleet_site, "admin")
    assert kiosks_in_order(fleet_site.get("/fleet?unit=Unit%20B").get_data(as_text=True)) == ["b-fail"]


def test_the_fleet_page_needs_a_login(fleet_site):
    assert fleet_site.get("/fleet").status_code in (302, 303)
