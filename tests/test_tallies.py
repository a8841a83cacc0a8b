"""Central's day tallies give exactly the figures of the responses they count.

Varied responses (skipped questions, incomplete, flagged, dossiers, reasons,
comments, no counter or officer, across midnight in Asia/Ho_Chi_Minh) go from
two real kiosk databases to central in several signed batches; every way the
pages and the API cut the figures is then compared with the figures computed
from the stored responses themselves.
"""

import random
from importlib import import_module
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select, text

from helpers import post, wire_responses
from kiosk import drafts, indices, store
from kiosk.config import DEFAULT_QUESTIONNAIRE
from kiosk.flags import FlagPolicy
from kiosk.questionnaire import load
from sync.central import reports
from sync.central.store import accounts, database, migrations, reads, schema, tallies
from sync.central.store.tallies import facts_between, tallies_between
from sync import wire

ELEMENTS = {q.key: q.elements for q in load(DEFAULT_QUESTIONNAIRE).questions}
UNITS = {"kiosk-a": "Sở Xây dựng", "kiosk-b": "Sở Tư pháp"}
START = datetime(2026, 3, 1, 14, 0, tzinfo=timezone.utc)  # 21:00 in Hà Nội: the days turn at 17:00 UTC
DAYS = [date(2026, 3, 1) + timedelta(days=n) for n in range(4)]
OFFICER_IDS = {"Nguyễn Văn An": "cb-an", "Trần Thị Bình": "cb-binh"}  # the roster's ids of the two officers


def make_kiosk(path, kiosk_id, rng, count):
    store.init(path, kiosk_id)
    db = store.connect(path)
    try:
        for i in range(count):
            moment = START + timedelta(minutes=23 * i + rng.randrange(20))
            for key, choices in (("counter", ["1", "2"]), ("officer", list(OFFICER_IDS))):
                if i < 3:  # the first responses come before staff set a counter or an officer
                    db.execute("DELETE FROM settings WHERE key IN (?, ?)", [key, key + "_id"])
                else:
                    store.set_setting(db, key, rng.choice(choices))
                    if key == "officer":  # picked from the roster (issue 13): the id beside the name
                        store.set_setting(db, "officer_id", OFFICER_IDS[store.get_setting(db, "officer")])
            if rng.random() < 0.4:
                store.set_setting(db, "pending_dossier", rng.choice(["HS-001", "HS-002", "HS:003", "Hồ sơ 4"]))
            draft = drafts.start_draft(db, "2025.1", moment)
            for key in ("overall", "guidance", "attitude", "fairness", "timeliness"):
                if rng.random() < 0.85:
                    not_yet = key == "timeliness" and rng.random() < 0.2  # no result yet
                    drafts.save_answer(db, draft, key, "na" if not_yet else rng.randint(1, 5), moment)
            for key, options in (("extra_request", ["yes", "no"]), ("visits", ["1", "2", "3+"])):
                if rng.random() < 0.8:
                    drafts.save_answer(db, draft, key, rng.choice(options), moment)
            drafts.finish_draft(
                db, draft, complete=rng.random() < 0.9, now=moment + timedelta(seconds=rng.choice([1, 90])),
                policy=FlagPolicy(), reasons=rng.sample(["impolite", "slow", "extra_demands"], rng.randrange(3)),
                comment="Chờ lâu quá" if rng.random() < 0.2 else None)
    finally:
        db.close()


@pytest.fixture
def stored(central_app, central_engine, tmp_path):
    """Two kiosks' varied responses, sent in batches of 7."""
    client, rng = central_app.test_client(), random.Random(766)
    for kiosk_id, unit in UNITS.items():
        secret = accounts.add_kiosk(central_engine, kiosk_id, unit)
        make_kiosk(tmp_path / f"{kiosk_id}.db", kiosk_id, rng, 150)
        pending = wire_responses(tmp_path / f"{kiosk_id}.db")
        for start in range(0, len(pending), 7):
            reply = post(client, secret, wire.batch(kiosk_id, pending[start:start + 7]), kiosk=kiosk_id)
            assert reply.status_code == 200, reply.get_data(as_text=True)
    rows = reads.range_responses(central_engine, "2026-01-01", "2026-12-31")
    assert len(rows) == 300
    return client, rows


def field(row, name):
    """A stored response's value of `name`; its officer's roster id from the name (the rows leave ids out)."""
    return OFFICER_IDS.get(row["officer"]) if name == "officer_id" else row[name]


def cuts(rows):
    """Every way the figures are cut: (description, keep-this-response test, tally filter arguments)."""
    yield "everything", lambda r: True, {}
    for day in DAYS:
        yield f"day {day}", lambda r, d=day: r["local_day"] == d.isoformat(), {"start": day, "end": day}
    for kiosk_id, unit in UNITS.items():
        yield f"kiosk {kiosk_id}", lambda r, k=kiosk_id: r["kiosk_id"] == k, {"kiosk": kiosk_id}
        yield f"unit {unit}", lambda r, u=unit: r["unit"] == u, {"unit": unit}
    for officer, officer_id in OFFICER_IDS.items():
        yield f"officer {officer}", lambda r, o=officer: r["officer"] == o, {"officer_id": officer_id}


@pytest.mark.parametrize("detail", [False, True], ids=["per-unit", "detailed"])
@pytest.mark.parametrize("include_flagged", [False, True])
def test_every_cut_of_the_tallies_matches_the_responses(central_engine, stored, include_flagged, detail):
    _client, rows = stored
    assert {r["local_day"] for r in rows} == {d.isoformat() for d in DAYS}
    assert any(r["flags"] for r in rows) and any(not r["answers"].get("overall") for r in rows)
    assert any(r["dossier_code"] for r in rows) and any(r["counter"] is None for r in rows)
    for name, keep, where in cuts(rows):
        start, end = where.pop("start", DAYS[0]), where.pop("end", DAYS[-1])
        expected = indices.summarize([r for r in rows if keep(r)], ELEMENTS, include_flagged)
        tallies = tallies_between(central_engine, start.isoformat(), end.isoformat(), detail=detail, **where)
        assert indices.summarize_tallies(tallies, ELEMENTS, include_flagged) == expected, name
        assert expected["responses"] > 0, name
    by_counter = {}
    for row in tallies_between(central_engine, "2026-03-01", "2026-03-04", detail=True):
        by_counter.setdefault(row["counter"], []).append(row)
    assert set(by_counter) == {"", "1", "2"}
    for counter, tallies in by_counter.items():
        expected = indices.summarize([r for r in rows if (r["counter"] or "") == counter], ELEMENTS, include_flagged)
        assert indices.summarize_tallies(tallies, ELEMENTS, include_flagged) == expected


def test_the_api_summary_matches_the_responses(central_engine, stored):
    client, rows = stored
    token = accounts.add_token(central_engine, "tests")
    for day in DAYS:
        for query, keep in (("", lambda r: True), ("&kiosk=kiosk-b", lambda r: r["kiosk_id"] == "kiosk-b"),
                            ("&unit=Sở Xây dựng&include_flagged=true", lambda r: r["unit"] == "Sở Xây dựng")):
            reply = client.get(f"/api/v1/summary?date={day}{query}",
                               headers={"Authorization": f"Bearer {token}"}).get_json()
            expected = indices.summarize([r for r in rows if r["local_day"] == day.isoformat() and keep(r)],
                                         ELEMENTS, "include_flagged=true" in query)
            assert {key: reply[key] for key in expected} == expected


def test_a_store_from_before_the_tallies_is_upgraded_in_place(central_engine, stored, monkeypatch):
    """Migrations 0004 and 0005 build what ingest now keeps, from the responses and cases already stored."""
    def snapshot():
        with central_engine.connect() as conn:
            case_days = sorted(conn.execute(select(schema.cases.c.id, schema.cases.c.local_day)).all())
        return case_days, [sorted(tuple(row.values())[1:] for row in
                                  tallies_between(central_engine, "2026-01-01", "2026-12-31", detail=detail))
                           for detail in (False, True)]
    kept_batch_by_batch = snapshot()
    assert len(kept_batch_by_batch[0]) > 50 and all(day for _id, day in kept_batch_by_batch[0])
    with database.write(central_engine) as conn:  # back to the store as 0003 left it
        schema.day_tallies.drop(conn)
        schema.unit_day_tallies.drop(conn)
        conn.execute(text("DROP INDEX cases_day_unit"))
        conn.execute(text("DROP INDEX cases_day"))
        for index in ("cases_queue", "cases_unit_queue", "cases_officer_queue", "cases_channel_queue",
                      "cases_category_queue", "cases_officer_id_queue"):  # the queue's (0010, 0014) hold local_day
            conn.execute(text(f"DROP INDEX {index}"))
        conn.execute(text("ALTER TABLE cases DROP COLUMN local_day"))
        conn.execute(delete(schema.schema_migrations).where(schema.schema_migrations.c.name.in_(
            ["0004_day_tallies", "0005_case_days"])))
    monkeypatch.setattr(import_module("sync.central.store.migrations.0004_day_tallies"), "BACKFILL_CHUNK", 16)
    assert migrations.migrate(central_engine) == ["0004_day_tallies", "0005_case_days"]
    with database.write(central_engine) as conn:  # what 0014 made of the tallies and the queue's index
        import_module("sync.central.store.migrations.0014_roster").add_ids_to_day_tallies(conn)
        conn.execute(text("CREATE INDEX cases_officer_id_queue ON cases "
                          "(officer_id, status, local_day, started_utc, id, why, reasons)"))
        # These responses carry roster ids, which 0004 (older) does not know: counted again with them, as
        # `central officer match` does once a store's old names get their ids.
        for unit in UNITS.values():
            tallies.recount_day_tallies(conn, unit, [day.isoformat() for day in DAYS])
    assert snapshot() == kept_batch_by_batch


def test_a_units_kiosks_sending_at_once_lose_nothing(central_app, central_engine, tmp_path):
    """Kiosks of one unit add to the same per-unit tallies; on PostgreSQL their batches run side by side."""
    rng, pending = random.Random(5), {}
    for kiosk_id in ("kiosk-c", "kiosk-d", "kiosk-e"):
        secret = accounts.add_kiosk(central_engine, kiosk_id, "Sở Y tế")
        make_kiosk(tmp_path / f"{kiosk_id}.db", kiosk_id, rng, 60)
        pending[kiosk_id] = (secret, wire_responses(tmp_path / f"{kiosk_id}.db"))

    def send(kiosk_id):
        client, (secret, responses) = central_app.test_client(), pending[kiosk_id]
        return [post(client, secret, wire.batch(kiosk_id, responses[start:start + 3]), kiosk=kiosk_id).status_code
                for start in range(0, len(responses), 3)]

    with ThreadPoolExecutor(3) as pool:
        assert {code for codes in pool.map(send, pending) for code in codes} == {200}
    rows = reads.range_responses(central_engine, "2026-01-01", "2026-12-31")
    assert len(rows) == 180
    for include_flagged in (False, True):
        tallies = tallies_between(central_engine, "2026-01-01", "2026-12-31", unit="Sở Y tế")
        assert indices.summarize_tallies(tallies, ELEMENTS, include_flagged) == \
            indices.summarize(rows, ELEMENTS, include_flagged)


def test_the_trends_read_gives_the_figures_of_the_full_tallies(central_engine, stored):
    """The trends read counts only: a unit's or every unit's added up by the database from unit_day_facts,
    an officer's from their day tallies (``counts_only``). Per day, every figure the full tallies give
    (flagged left out, as the page does) and those of the responses themselves, but the per-dossier rate,
    which counts cannot give and the trends leave out."""
    _client, rows = stored
    start, end = DAYS[0] - timedelta(days=2), DAYS[-1] + timedelta(days=1)
    for where in ({}, {"unit": "Sở Tư pháp"}, {"officer_id": "cb-an"}):
        full = tallies_between(central_engine, start.isoformat(), end.isoformat(), **where)
        if "officer_id" in where:
            fast = tallies_between(central_engine, start.isoformat(), end.isoformat(), counts_only=True, **where)
            assert len(fast) == len(full)
        else:
            fast = facts_between(central_engine, start.isoformat(), end.isoformat(), **where)
            assert len(fast) == len({(row["local_day"], row["flagged"]) for row in full})
        assert fast and all(not row["tally"]["dossier"] for row in fast)
        assert any(row["tally"]["dossier"] for row in full)
        old = reports.by_day(full, start, end, ELEMENTS)
        new = reports.by_day(fast, start, end, ELEMENTS, dossiers=False)
        assert [day for day, _ in new] == [day for day, _ in old] and len(new) == 7
        assert any(figures["responses"] for _day, figures in new)
        for (day, before), (_day, after) in zip(old, new, strict=True):
            del before["dossiers"]
            assert after == before, (where, day)
            kept = [r for r in rows if r["local_day"] == day.isoformat()
                    and all(field(r, name) == value for name, value in where.items())]
            from_responses = indices.summarize(kept, ELEMENTS)
            del from_responses["dossiers"]
            assert after == from_responses, (where, day)


def test_an_upgraded_store_gets_the_facts_ingest_keeps(central_engine, stored):
    """Migration 0012 builds unit_day_facts from the unit tallies: the same rows ingest kept batch by batch."""
    def facts():
        with central_engine.connect() as conn:
            return sorted(tuple(row) for row in conn.execute(select(schema.unit_day_facts)))
    kept_batch_by_batch = facts()
    assert len(kept_batch_by_batch) > 100 and {row[2] for row in kept_batch_by_batch} >= {"rating", "choice", "flag"}
    with database.write(central_engine) as conn:
        schema.unit_day_facts.drop(conn)
        conn.execute(delete(schema.schema_migrations).where(schema.schema_migrations.c.name == "0012_unit_day_facts"))
    assert migrations.migrate(central_engine) == ["0012_unit_day_facts"]
    assert facts() == kept_batch_by_batch


def test_an_upgraded_store_gets_every_unit_s_facts_ingest_keeps(central_engine, stored):
    """Migration 0017 builds day_facts from unit_day_facts: the same rows ingest kept batch by batch, and each
    the sum of its units' rows."""
    def rows(table):
        with central_engine.connect() as conn:
            return sorted(tuple(row) for row in conn.execute(select(table)))
    kept_batch_by_batch = rows(schema.day_facts)
    summed = {}
    for *key, _unit, n in rows(schema.unit_day_facts):
        summed[tuple(key)] = summed.get(tuple(key), 0) + n
    assert kept_batch_by_batch == sorted((*key, n) for key, n in summed.items())
    assert len({row[0] for row in kept_batch_by_batch}) > 1
    with database.write(central_engine) as conn:
        schema.day_facts.drop(conn)
        conn.execute(delete(schema.schema_migrations).where(schema.schema_migrations.c.name == "0017_day_facts"))
    assert migrations.migrate(central_engine) == ["0017_day_facts"]
    assert rows(schema.day_facts) == kept_batch_by_batch
