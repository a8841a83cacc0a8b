"""Central's migrations: a store made at any historical step, filled, then upgraded, equals a fresh install.

For every step k, a store is built by applying steps 1..k from their own DDL, filled with rows as central
stored them at that step (names as kiosks and admins sent them before 0007, cases from 0003 on, tallies
from 0004 on, installs from 0006 on), and upgraded to head. A fresh install ingests the same responses
through today's ``ingest``. Both must have the same schema (tables, columns with types, nullability and
defaults, indexes, unique constraints, foreign keys) and the same data, derived data included (cases,
case days, day tallies at both grains, installs, NFC names). The head schema must also equal
``store/schema.py``, and no step may use today's definitions or application code.
"""

import ast
import json
import unicodedata
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from kiosk import chain
from kiosk.clock import utc_iso
from sync.central import ingest
from sync.central.cases import case_rows, compliment_rows, reason_keys
from sync.central.store import accounts, compliments, database, migrations, roster, schema, tallies
from sync.central.store.tallies import add_tallies

STEPS = migrations.STEPS
TALLY_TABLES = ("day_tallies", "unit_day_tallies")
RECEIVED = datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc)
#: Each kiosk's unit (as registered: NFC once 0007 is there).
UNITS = {"kiosk-a": "Sở Tư pháp tỉnh Đắk Lắk", "kiosk-b": "Ủy ban nhân dân phường Bến Thành"}
OFFICERS = ("Nguyễn Thị Hoà", "Trần Văn Đức")
COUNTER = "Quầy số 2"
#: (kiosk, answers, reasons, flags, dossier code, officer spelled NFD?, comment, hours before RECEIVED)
RESPONSES = [
    ("kiosk-a", {"overall": 5, "guidance": 4, "attitude": 5, "timeliness": "na", "extra_request": "no",
                 "visits": "1"}, [], [], "000.00.01.H01-260301-0001", True, None, 30),
    ("kiosk-a", {"overall": 2, "guidance": 1, "extra_request": "yes", "visits": "3"}, ["slow"], [],
     "000.00.01.H01-260301-0001", False, None, 29),
    ("kiosk-a", {"guidance": 3}, [], [], None, None, None, 28),
    ("kiosk-a", {"overall": 4, "fairness": 4, "visits": "2"}, [], [], None, True, "Rất tốt", 27),
    ("kiosk-a", {"overall": 4, "guidance": 5}, [], [], "000.00.01.H01-260301-0002", False, None, 10),
    ("kiosk-a", {"overall": 3, "attitude": 2}, [], ["too_fast"], None, True, None, 9),
    ("kiosk-b", {"overall": 1, "timeliness": 1}, ["fees"], [], None, True, "Chờ quá lâu", 20),
    ("kiosk-b", {"overall": 5, "timeliness": "na", "extra_request": "no"}, [], [], None, False, None, 19),
]


def nfd(value):
    return unicodedata.normalize("NFD", value) if isinstance(value, str) else value


def sent_batches() -> dict:
    """Each kiosk's responses as its batch carries them (chained, hashed; some names in NFD)."""
    batches, previous = {}, {}
    for index, (kiosk_id, answers, reasons, flags, dossier, officer_nfd, comment, hours) in enumerate(RESPONSES):
        created = RECEIVED - timedelta(hours=hours)
        officer = None if officer_nfd is None else OFFICERS[index % 2]
        response = {"seq": len(batches.get(kiosk_id, [])) + 1, "uuid": str(uuid.UUID(int=index + 1, version=4)),
                    "kiosk_id": kiosk_id, "started_utc": utc_iso(created - timedelta(seconds=40)),
                    "created_utc": utc_iso(created), "utc_offset_minutes": 420, "questionnaire_version": "2025.1",
                    "counter": nfd(COUNTER) if officer_nfd else COUNTER if officer else None,
                    "officer": nfd(officer) if officer_nfd else officer, "dossier_code": dossier,
                    "answers": answers, "reasons": reasons, "complete": 1, "flags": flags,
                    "comment_hash": None, "contact_hash": None, "prev_hash": previous.get(kiosk_id, "0" * 64)}
        if comment:
            salt = "ab" * 16
            response["comment_hash"] = chain.private_hash(salt, comment)
            response["private"] = {"comment": comment, "comment_salt": salt, "phone": None, "phone_salt": None,
                                   "consent_utc": None}
        response["hash"] = previous[kiosk_id] = chain.record_hash(response)
        batches.setdefault(kiosk_id, []).append(response)
    return batches


def fresh_install(engine, batches):
    """A store made by today's migrations that received the batches through today's ingest."""
    migrations.migrate(engine)
    for kiosk_id, responses in batches.items():
        accounts.add_kiosk(engine, kiosk_id, UNITS[kiosk_id])
        with engine.connect() as conn:
            kiosk = dict(accounts.get_kiosk(conn, kiosk_id))
        payload = {"batch_id": str(uuid.uuid5(uuid.NAMESPACE_OID, kiosk_id)), "responses": responses}
        assert {v["status"] for v in ingest.ingest(engine, kiosk, payload, RECEIVED, RECEIVED)} == {"accepted"}
    accounts.add_token(engine, "báo cáo")
    add_users(engine)


def add_users(engine):
    """An officer login (linked to its roster entry, from 0014 on) and an admin."""
    roster.add_unit(engine, UNITS["kiosk-a"], UNITS["kiosk-a"])
    officer_id = roster.add_officer(engine, UNITS["kiosk-a"], OFFICERS[0], "cb-hoa")
    for name, role, unit in (("hoa", "officer", UNITS["kiosk-a"]), ("admin", "admin", None)):
        accounts.add_user(engine, name, role, unit, "mật-khẩu-đủ-dài", display_name=OFFICERS[0],
                          officer_id=officer_id if role == "officer" else None)


def rows(conn, sql, **params) -> list:
    return [dict(row) for row in conn.execute(text(sql), params).mappings()]


def insert(conn, table, row):
    conn.execute(text(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join(':' + c for c in row)})"), row)


def fill_as_stored_at(engine, k, batches, fresh):
    """Rows as central stored them once steps 1..k were its newest: before 0007 (k < 7) names as sent."""
    names_as_sent = k < 7
    sent = {r["uuid"]: r for responses in batches.values() for r in responses}
    with database.write(engine) as conn:
        for kiosk_id, unit in UNITS.items():
            insert(conn, "kiosks", {"kiosk_id": kiosk_id, "unit": nfd(unit) if names_as_sent else unit,
                                    "secret": "5e" * 32, "created_utc": "2026-01-05T02:00:00.000Z"})
        for index, row in enumerate(fresh["responses"]):
            row = dict(row)
            if k < 6:
                del row["install_id"]
            if k < 14:  # the roster's ids came with 0014
                del row["officer_id"], row["counter_id"]
            if names_as_sent:  # an admin retyped the unit's name halfway: both spellings are stored
                row["unit"] = nfd(row["unit"]) if index % 2 == 0 else row["unit"]
                row["counter"], row["officer"] = sent[row["uuid"]]["counter"], sent[row["uuid"]]["officer"]
            insert(conn, "responses", row)
        for row in fresh["private"]:
            insert(conn, "response_private", row)
        insert(conn, "quarantine", {"kiosk_id": "kiosk-a", "batch_id": str(uuid.UUID(int=99)), "seq": 2,
                                    "uuid": str(uuid.UUID(int=98)), "reason": "altered", "payload": "{}",
                                    "received_utc": utc_iso(RECEIVED)})
        insert(conn, "integrity_events", {"kiosk_id": "kiosk-a", "kind": "altered", "seq": 2, "detail": "x",
                                          "recorded_utc": utc_iso(RECEIVED)})
        insert(conn, "api_tokens", {"name": nfd("báo cáo") if names_as_sent else "báo cáo",
                                    "token_hash": "7a" * 32, "created_utc": utc_iso(RECEIVED)})
        if k >= 2:
            for user in fresh["users"]:
                insert(conn, "users", {**{c: user[c] for c in ("name", "role", "unit", "created_utc")},
                                       "display_name": nfd(user["display_name"]) if names_as_sent
                                       else user["display_name"], "password_hash": "scrypt$00$00",
                                       "unit": nfd(user["unit"]) if names_as_sent else user["unit"]})
            insert(conn, "login_attempts", {"key": "user:hoa", "failures": 2, "locked_until": None})
        stored = rows(conn, "SELECT * FROM responses ORDER BY id")
        decoded = [{**row, "answers": json.loads(row["answers"]), "reasons": json.loads(row["reasons"]),
                    "flags": json.loads(row["flags"]), "has_comment": row["comment_hash"] is not None}
                   for row in stored]
        if k >= 3:  # ingest opened cases (with their day from 0005 on) and kept tallies (from 0004 on)
            since = {"local_day": 5, "channel": 9, "started_utc": 9, "reasons": 11,  # case columns added after 0003
                     "officer_id": 14, "counter_id": 14}
            opened = [{c: v for c, v in case.items() if k >= since.get(c, 3)}
                      for case in (case_rows(decoded) if k >= 11 else cases_before_compliments(decoded))]
            for case in opened:
                insert(conn, "cases", case)
            if k >= step_number("0016_case_reasons"):  # ingest kept the queue's reason rows
                for case in rows(conn, "SELECT id, why, reasons FROM cases"):
                    for reason in reason_keys(case["why"], case["reasons"]):
                        insert(conn, "case_reasons", {"reason": reason, "case_id": case["id"]})
        if k >= 11:  # from 0011 on a comment alone is a compliment, not a case
            for row in compliment_rows(decoded):
                insert(conn, "compliments", {c: v for c, v in row.items() if k >= 14 or not c.endswith("_id")
                                             or c in ("response_id", "kiosk_id")})
        if k >= 4:
            with pytest.MonkeyPatch.context() as before_ids:
                if k < 14:  # the roster's ids joined the day tallies' key with 0014
                    before_ids.setattr(tallies, "GRAINS", [
                        (table, tuple(c for c in keys if c not in ("officer_id", "counter_id")))
                        for table, keys in tallies.GRAINS])
                add_tallies(conn, decoded, with_facts=k >= 12,  # unit_day_facts from 0012 on, day_facts from 0017
                            with_day_facts=k >= step_number("0017_day_facts"))
        if k >= 6:
            for row in fresh["installs"]:
                insert(conn, "installs", row)


def step_number(name) -> int:
    """k of the step `name` (its place in STEPS, from 1)."""
    return STEPS.index(name) + 1


def cases_before_compliments(decoded) -> list:
    """Cases as ingest opened them before the compliment rule (0011): a comment alone opened one too."""
    opened = []
    for r in decoded:
        why = ((["comment"] if r["has_comment"] else [])
               + (["low_rating"] if any(type(v) is int and v in (1, 2) for v in r["answers"].values()) else [])
               + (["extra_request"] if r["answers"].get("extra_request") == "yes" else []))
        if why:
            opened.append({"response_id": r["id"], "local_day": r["local_day"], "unit": r["unit"],
                           "kiosk_id": r["kiosk_id"], "officer": r["officer"], "why": ",".join(why),
                           "status": "new", "opened_utc": r["received_utc"], "updated_utc": r["received_utc"],
                           "channel": "kiosk", "started_utc": r["created_utc"],
                           "reasons": ",".join(r["reasons"]) or None})
    return opened


def snapshot(engine) -> dict:
    """The data a store holds that an upgrade must keep or derive, without surrogate ids of derived rows."""
    with engine.connect() as conn:
        tallies = {table: {tuple(row[c] for c in keys): json.loads(row["tally"])
                           for row in rows(conn, f"SELECT * FROM {table}")}
                   for table, keys in (("day_tallies", ("local_day", "unit", "kiosk_id", "counter", "officer",
                                                        "officer_id", "counter_id", "flagged")),
                                       ("unit_day_tallies", ("local_day", "unit", "flagged")))}
        return {
            "kiosks": rows(conn, "SELECT kiosk_id, unit FROM kiosks ORDER BY kiosk_id"),
            "responses": rows(conn, "SELECT * FROM responses ORDER BY id"),
            "private": rows(conn, "SELECT * FROM response_private ORDER BY response_id"),
            "cases": rows(conn, "SELECT response_id, local_day, unit, kiosk_id, officer, why, status, assignee, "
                                "answer, opened_utc, updated_utc, closed_utc, channel, started_utc, category, reasons "
                                "FROM cases ORDER BY response_id"),
            "case_reasons": rows(conn, "SELECT c.response_id, r.reason FROM case_reasons r JOIN cases c "
                                       "ON c.id = r.case_id ORDER BY c.response_id, r.reason"),
            "compliments": rows(conn, "SELECT response_id, unit, kiosk_id, officer, local_day, started_utc "
                                      "FROM compliments ORDER BY response_id"),
            "users": rows(conn, "SELECT name, display_name, role, unit, session_version, disabled_utc "
                                "FROM users ORDER BY name"),
            "installs": rows(conn, "SELECT kiosk_id, install_id, parent_id, from_seq, first_seen_utc, "
                                   "last_batch_utc FROM installs ORDER BY kiosk_id, install_id"),
            "api_tokens": rows(conn, "SELECT name FROM api_tokens"),
            **tallies,
        }


def shape(engine) -> dict:
    """Every table's columns (type, nullable, default), primary key, indexes, unique constraints and foreign keys."""
    with engine.connect() as conn:
        found = inspect(conn)
        return {table: {
            "columns": {c["name"]: (str(c["type"]), c["nullable"], c["default"]) for c in found.get_columns(table)},
            "primary_key": found.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                              for i in found.get_indexes(table)),
            "unique": sorted((u["name"] or "", tuple(u["column_names"]))
                             for u in found.get_unique_constraints(table)),
            "foreign_keys": sorted((tuple(f["constrained_columns"]), f["referred_table"],
                                    tuple(f["referred_columns"])) for f in found.get_foreign_keys(table)),
        } for table in found.get_table_names()}


@pytest.mark.parametrize("k", range(1, len(STEPS) + 1), ids=STEPS)
def test_a_store_made_at_any_step_upgrades_to_what_a_fresh_install_holds(central_url, other_central_url, k):
    batches = sent_batches()
    fresh_engine, old_engine = database.engine_for(central_url), database.engine_for(other_central_url)
    try:
        fresh_install(fresh_engine, batches)
        with fresh_engine.connect() as conn:
            fresh_rows = {"responses": rows(conn, "SELECT * FROM responses ORDER BY id"),
                          "private": rows(conn, "SELECT * FROM response_private ORDER BY response_id"),
                          "users": rows(conn, "SELECT * FROM users ORDER BY id"),
                          "installs": rows(conn, "SELECT * FROM installs")}
        assert migrations.migrate(old_engine, upto=STEPS[k - 1]) == list(STEPS[:k])
        fill_as_stored_at(old_engine, k, batches, fresh_rows)
        if 4 <= k < 7:  # the same names in two spellings: tallies 0007 must add into one
            with old_engine.connect() as conn:
                counts = [conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TALLY_TABLES]
            assert counts[0] > 7 and counts[1] > 4
        assert migrations.pending_migrations(old_engine) == list(STEPS[k:])
        assert migrations.migrate(old_engine) == list(STEPS[k:])
        assert migrations.pending_migrations(old_engine) == []
        compliments.settle(old_engine)  # what `central init` does after the steps
        if k < 2:  # no accounts before 0002: added once upgraded
            add_users(old_engine)

        assert shape(old_engine) == shape(fresh_engine)
        upgraded, fresh = snapshot(old_engine), snapshot(fresh_engine)
        assert len(fresh["cases"]) == 3 and all(case["local_day"] for case in fresh["cases"])
        assert len(fresh["compliments"]) == 1  # a comment alone (0011)
        assert {r["response_id"] for r in fresh["case_reasons"]} == {c["response_id"] for c in fresh["cases"]}
        assert (len(fresh["day_tallies"]), len(fresh["unit_day_tallies"])) == (7, 4)
        for part in fresh:
            assert upgraded[part] == fresh[part], part
    finally:
        fresh_engine.dispose()
        old_engine.dispose()


def test_the_head_schema_is_store_schema_py(central_url, other_central_url):
    """store/schema.py (what the application queries) and the migrations (what stores have) cannot drift."""
    migrated, declared = database.engine_for(central_url), database.engine_for(other_central_url)
    try:
        migrations.migrate(migrated)
        with database.write(declared) as conn:
            schema.metadata.create_all(conn)
        assert shape(migrated) == shape(declared)
        assert set(shape(migrated)) == set(schema.metadata.tables)
    finally:
        migrated.dispose()
        declared.dispose()


def test_migrate_applies_each_step_once_and_records_it(central_url):
    engine = database.engine_for(central_url)
    try:
        assert migrations.pending_migrations(engine) == list(STEPS)
        assert migrations.migrate(engine, upto="0002_accounts") == ["0001_initial", "0002_accounts"]
        assert migrations.migrate(engine) == list(STEPS[2:])
        assert migrations.migrate(engine) == []
        with engine.connect() as conn:
            assert sorted(conn.execute(text("SELECT name FROM schema_migrations")).scalars()) == list(STEPS)
    finally:
        engine.dispose()


STEP_FOLDER = Path(migrations.__file__).parent
#: What a step may import: the standard library, SQLAlchemy's SQL text and inspection, and the frozen helpers
#: beside the steps.
ALLOWED_IMPORTS = {"json", "secrets", "unicodedata", "collections", "sqlalchemy"}
STEP_HELPERS = {"ddl", "tally_form"}


def test_every_step_states_its_own_ddl_and_calls_no_application_code():
    files = sorted(p.stem for p in STEP_FOLDER.glob("[0-9][0-9][0-9][0-9]_*.py"))
    assert files == list(STEPS)  # a step file not in STEPS would never run
    for name in STEPS:
        source = (STEP_FOLDER / f"{name}.py").read_text()
        tree = ast.parse(source)
        assert dict(migrations.MIGRATIONS)[name].__module__ == f"{migrations.__name__}.{name}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert {a.name.split(".")[0] for a in node.names} <= ALLOWED_IMPORTS, (name, ast.dump(node))
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                assert (node.level == 1 and module == "" and {a.name for a in node.names} <= STEP_HELPERS) \
                    or (node.level == 0 and module.split(".")[0] in ALLOWED_IMPORTS), (name, ast.dump(node))
        assert "create_all" not in source and "metadata" not in source, name
