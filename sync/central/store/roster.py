"""The roster (issue 13): units, their counters and their officers, each with a stable id.

Ids never change and are never reused; a display name is NFC, trimmed, 1..80 characters (a unit's name
1..120). Renaming changes the roster row only: stored responses keep the names as the kiosk sent them.
Retiring keeps the row (``active`` 0, ``retired_utc``): old responses still name it, kiosks no longer
offer it. Every function raises ``RosterError`` (a ``CentralStoreError``) with one sentence for bad input
or an unknown id, and then changes nothing.
"""

import re
import secrets
import unicodedata

from sqlalchemy import select

from kiosk.clock import now_utc, utc_iso
from kiosk.text import nfc, storable
from sync.schema import ROSTER_ID_PATTERN

from .database import write
from .schema import CentralStoreError, counters, officers, units

ROSTER_ID = re.compile(ROSTER_ID_PATTERN)


class RosterError(CentralStoreError):
    """A roster change refused, with its sentence and its `kind` (bad_id, bad_name, exists, unknown, retired,
    no_unit, other_unit, no_responses) for pages that say it in the reader's language."""

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind

#: The longest display name of a counter or officer, and of a unit.
NAME_MAX, UNIT_NAME_MAX = 80, 120

#: Vietnamese letters in alphabetical order (a ă â b c d đ e ê ...), for sorting names as people expect.
_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_ORDER = {letter: index for index, letter in enumerate(_ALPHABET)}
#: Tone marks in the dictionaries' order (none, huyền, hỏi, ngã, sắc, nặng).
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn: part of the letter


def vietnamese_key(name: str) -> tuple:
    """A sort key putting names in Vietnamese dictionary order (letters first, then tone marks, then case)."""
    letters, tones = [], []
    for char in unicodedata.normalize("NFC", name):
        base = unicodedata.normalize("NFD", char.lower())
        tone = next((_TONES[mark] for mark in base[1:] if mark in _TONES), 0)
        letter = unicodedata.normalize("NFC", "".join(c for c in base if c not in _TONES))
        if letter in _ORDER:
            letters.append((_ORDER[letter], ""))
        else:  # spaces and digits before letters (An Khang, Ánh Tuyết), other letters after y
            letters.append((len(_ALPHABET) if letter.isalpha() else -1, letter))
        tones.append(tone)
    return letters, tones, name


def check_id(value: str, what: str = "id") -> str:
    """`value` if it is a roster id (letters, digits, ``.``, ``_``, ``-``; 1..36), else CentralStoreError."""
    if not isinstance(value, str) or not ROSTER_ID.match(value):
        raise RosterError(f"The {what} {value!r} is not valid: use 1 to 36 letters, digits, '.', '_' or '-'.",
                          "bad_id")
    return value


def check_name(value: str, limit: int = NAME_MAX, what: str = "name") -> str:
    """`value` in NFC without surrounding spaces if it is 1..`limit` characters on one line, else
    CentralStoreError."""
    name = nfc(value or "").strip()
    if not name or len(name) > limit or not storable(name, one_line=True):
        raise RosterError(f"The {what} must be 1 to {limit} characters on one line.", "bad_name")
    return name


def new_officer_id() -> str:
    """A fresh officer id: ``cb-`` and 8 lower-case hex digits."""
    return "cb-" + secrets.token_hex(4)


# --- units -------------------------------------------------------------------------

def add_unit(engine, code: str, name: str) -> None:
    """Add a unit: `code` as kiosks are registered with it (``central add-kiosk --unit``), `name` as shown."""
    code, name = check_name(code, 64, "unit code"), check_name(name, UNIT_NAME_MAX, "unit name")
    with write(engine) as conn:
        if conn.execute(select(units.c.code).where(units.c.code == code)).first():
            raise RosterError(f"The unit {code!r} already exists.", "exists")
        conn.execute(units.insert().values(code=code, name=name, created_utc=utc_iso(now_utc())))


def rename_unit(engine, code: str, name: str) -> None:
    _update(engine, units, units.c.code, nfc(code), "unit", name=check_name(name, UNIT_NAME_MAX, "unit name"))


def retire_unit(engine, code: str) -> None:
    """Retire a unit with its counters and officers (kept, no longer offered to kiosks)."""
    code, at = nfc(code), utc_iso(now_utc())
    with write(engine) as conn:
        _retire(conn, units, units.c.code, code, "unit", at)
        for table in (counters, officers):
            conn.execute(table.update().where(table.c.unit == code, table.c.active == 1)
                         .values(active=0, retired_utc=at))


def get_unit(conn, code: str):
    """The unit's row (code, name, created_utc, retired_utc) or None."""
    return conn.execute(select(units).where(units.c.code == nfc(code))).mappings().first()


def list_units(engine) -> list:
    """Every unit (retired ones too) as mappings, by name."""
    with engine.connect() as conn:
        rows = conn.execute(select(units)).mappings().all()
    return sorted(rows, key=lambda row: vietnamese_key(row["name"]))


# --- counters and officers ---------------------------------------------------------

def add_counter(engine, unit: str, counter_id: str, name: str) -> None:
    """Add counter `counter_id` (unique within central) to an active unit."""
    counter_id, name = check_id(counter_id, "counter id"), check_name(name, what="counter name")
    with write(engine) as conn:
        unit = _active_unit(conn, unit)
        if conn.execute(select(counters.c.id).where(counters.c.id == counter_id)).first():
            raise RosterError(f"A counter with id {counter_id!r} already exists.", "exists")
        conn.execute(counters.insert().values(id=counter_id, unit=unit, name=name, created_utc=utc_iso(now_utc())))


def add_officer(engine, unit: str, name: str, officer_id: str | None = None) -> str:
    """Add an officer to an active unit; returns their id (`officer_id`, or a new ``cb-`` + 8 hex one)."""
    officer_id = check_id(officer_id, "officer id") if officer_id is not None else new_officer_id()
    name = check_name(name, what="officer's name")
    with write(engine) as conn:
        unit = _active_unit(conn, unit)
        if conn.execute(select(officers.c.id).where(officers.c.id == officer_id)).first():
            raise RosterError(f"An officer with id {officer_id!r} already exists.", "exists")
        conn.execute(officers.insert().values(id=officer_id, unit=unit, display_name=name,
                                              created_utc=utc_iso(now_utc())))
    return officer_id


def rename_counter(engine, counter_id: str, name: str) -> None:
    _update(engine, counters, counters.c.id, counter_id, "counter", name=check_name(name, what="counter name"))


def rename_officer(engine, officer_id: str, name: str) -> None:
    _update(engine, officers, officers.c.id, officer_id, "officer",
            display_name=check_name(name, what="officer's name"))


def retire_counter(engine, counter_id: str) -> None:
    with write(engine) as conn:
        _retire(conn, counters, counters.c.id, counter_id, "counter", utc_iso(now_utc()))


def retire_officer(engine, officer_id: str) -> None:
    with write(engine) as conn:
        _retire(conn, officers, officers.c.id, officer_id, "officer", utc_iso(now_utc()))


def get_officer(conn, officer_id: str):
    """The officer's row (id, unit, display_name, active, created_utc, retired_utc) or None."""
    return conn.execute(select(officers).where(officers.c.id == officer_id)).mappings().first()


def list_officers(engine, unit: str | None = None, active_only: bool = False) -> list:
    """Officers of `unit` (every unit's when None) as mappings, by unit then name in Vietnamese order."""
    return _listed(engine, officers, officers.c.display_name, unit, active_only)


def list_counters(engine, unit: str | None = None, active_only: bool = False) -> list:
    """Counters of `unit` (every unit's when None) as mappings, by unit then name in Vietnamese order."""
    return _listed(engine, counters, counters.c.name, unit, active_only)


def kiosk_roster(engine, unit: str) -> dict:
    """What a kiosk of `unit` offers in staff mode: ``{"counters": [{"id", "name"}, ...], "officers": [{"id",
    "name"}, ...]}``, active ones only, each list in Vietnamese name order (empty lists for an unknown or
    retired unit)."""
    return {"counters": [{"id": row["id"], "name": row["name"]}
                         for row in list_counters(engine, unit, active_only=True)],
            "officers": [{"id": row["id"], "name": row["display_name"]}
                         for row in list_officers(engine, unit, active_only=True)]}


# --- shared ------------------------------------------------------------------------

def _listed(engine, table, name_column, unit, active_only):
    query = select(table)
    if unit is not None:
        query = query.where(table.c.unit == nfc(unit))
    if active_only:
        query = query.where(table.c.active == 1)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return sorted(rows, key=lambda row: (row["unit"], vietnamese_key(row[name_column.name]), row["id"]))


def _active_unit(conn, unit):
    row = get_unit(conn, unit)
    if row is None:
        raise RosterError(f"No unit {nfc(unit)!r}: add it first with `central unit add`.", "no_unit")
    if row["retired_utc"] is not None:
        raise RosterError(f"The unit {row['code']!r} is retired.", "retired")
    return row["code"]


def _update(engine, table, key, value, what, **values):
    with write(engine) as conn:
        if conn.execute(table.update().where(key == value).values(**values)).rowcount != 1:
            raise RosterError(f"No {what} {value!r}.", "unknown")


def _retire(conn, table, key, value, what, at):
    row = conn.execute(select(table.c.retired_utc).where(key == value)).first()
    if row is None:
        raise RosterError(f"No {what} {value!r}.", "unknown")
    if row.retired_utc is not None:
        raise RosterError(f"The {what} {value!r} is already retired.", "retired")
    values = {"retired_utc": at} if table is units else {"active": 0, "retired_utc": at}
    conn.execute(table.update().where(key == value).values(**values))



def officer_names(engine, ids) -> dict:
    """{officer id: current display name} for the given ids (unknown ids are left out)."""
    ids = sorted({i for i in ids if i})
    if not ids:
        return {}
    with engine.connect() as conn:
        return dict(conn.execute(select(officers.c.id, officers.c.display_name).where(officers.c.id.in_(ids))).all())
