"""The fleet's health in words (issue 13, item 6): each kiosk's states from its latest health report and
its last batch, worst first. Pure functions over ``store.fleet.fleet_rows``; the fleet page shows them.

States, worst first (a kiosk may have several; ``ok`` only alone):

- ``silent``: nothing from the kiosk (no batch, no configuration request) for over ``SILENT_AFTER``;
- ``failing``: its last error happened within ``FAILING_WITHIN`` before its latest report;
- ``clock_off``: its clock is more than ``CLOCK_OFF_AFTER`` away from central's;
- ``disk_low``: less than ``DISK_LOW_BELOW`` bytes free where its database lives;
- ``outdated``: it runs older software than the newest any kiosk reports, or another questionnaire than
  the newest published for its unit (it takes it at its next sync);
- ``ok``: none of these.
"""

import re
from datetime import timedelta

from kiosk.clock import parse_utc

SILENT_AFTER = timedelta(days=1)
FAILING_WITHIN = timedelta(hours=1)
CLOCK_OFF_AFTER = 120  # seconds
DISK_LOW_BELOW = 500_000_000  # bytes (500 MB)

STATES = ("silent", "failing", "clock_off", "disk_low", "outdated", "ok")


def version_key(version) -> tuple:
    """A software version's order: its numbers in turn (``0.10.1`` after ``0.9``); text without numbers
    comes first."""
    return tuple(int(part) for part in re.findall(r"\d+", version or ""))


def last_contact(row: dict):
    """The latest of the kiosk's last batch and its latest report (UTC text), or None."""
    seen = [t for t in (row.get("last_batch_utc"), row.get("received_utc")) if t]
    return max(seen) if seen else None


def states(row: dict, now, newest_software, newest_questionnaire) -> list:
    """The kiosk's states (``STATES`` keys, worst first) at ``now`` (UTC datetime); ``newest_software`` is the
    newest version any kiosk reports (or None), ``newest_questionnaire`` the version published for its unit
    (or None: the kiosks keep their own files)."""
    found = []
    contact = last_contact(row)
    if contact is None or now - parse_utc(contact) > SILENT_AFTER:
        found.append("silent")
    if row.get("last_error_utc"):
        reported = row.get("clock_utc") or row.get("received_utc")
        if reported and parse_utc(reported) - parse_utc(row["last_error_utc"]) <= FAILING_WITHIN:
            found.append("failing")
    if row.get("clock_offset_s") is not None and abs(row["clock_offset_s"]) > CLOCK_OFF_AFTER:
        found.append("clock_off")
    if row.get("free_disk_bytes") is not None and row["free_disk_bytes"] < DISK_LOW_BELOW:
        found.append("disk_low")
    software, questionnaire = row.get("software_version"), row.get("questionnaire_version")
    if (software and newest_software and version_key(software) < version_key(newest_software)) or \
            (questionnaire and newest_questionnaire and questionnaire != newest_questionnaire):
        found.append("outdated")
    return found or ["ok"]


def ranked(rows: list, now, published: dict) -> list:
    """``rows`` (``store.fleet.fleet_rows``) each with ``states`` and ``last_contact`` added, worst first:
    by worst state, then by how many states, then by kiosk id. ``published`` is ``{unit or None: version}``
    (``store.fleet.newest_versions``): a unit's own beats the every-unit one."""
    reported = [row["software_version"] for row in rows if row.get("software_version")]
    newest_software = max(reported, key=version_key) if reported else None
    result = []
    for row in rows:
        newest_questionnaire = published.get(row["unit"], published.get(None))
        found = states(row, now, newest_software, newest_questionnaire)
        result.append({**row, "states": found, "last_contact": last_contact(row)})
    return sorted(result, key=lambda r: (STATES.index(r["states"][0]), -len(r["states"]), r["kiosk_id"]))
