"""The local store: append-only, gapless, chained, erasable text, migrations."""

import sqlite3
import threading
from datetime import date, datetime, timedelta, timezone

import pytest

from kiosk import chain, drafts, erasure, schema, store
from kiosk.clock import day_bounds_utc, now_utc
from kiosk.flags import FlagPolicy

POLICY = FlagPolicy()


@pytest.fixture
def path(tmp_path):
    db_path = tmp_path / "kiosk.db"
    store.init(db_path, "k1")
    return db_path


@pytest.fixture
def db(path):
    database = store.connect(path)
    yield database
    database.close()


def add(db, answers=None, now=None, **private):
    now = now or now_utc()
    draft = drafts.start_draft(db, "v1", now)
    for key, value in (answers or {"overall": 5}).items():
        drafts.save_answer(db, draft, key, value, now)
    return drafts.finish_draft(db, draft, complete=True, now=now, policy=POLICY, **private)


def tamper(path, *statements):
    """What an intruder with the sqlite3 shell could do: drop the guards, then edit."""
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER responses_no_update")
    conn.execute("DROP TRIGGER responses_no_delete")
    for sql in statements:
        conn.execute(sql)
    conn.commit()
    conn.close()


def test_init_sets_wal_and_is_idempotent(path, db):
    add(db)
    assert store.init(path, "k1") is False  # second run: nothing dropped
    assert db["responses"].count == 1
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_database_belongs_to_one_kiosk(path):
    with pytest.raises(store.StoreError) as error:
        store.init(path, "k2")
    assert str(error.value) == f"KIOSK_ID is 'k2' but the database {path} belongs to kiosk 'k1'."


def test_open_before_init_says_what_to_do(tmp_path):
    with pytest.raises(store.StoreError) as error:
        store.open_existing(tmp_path / "none.db", "k1")
    assert "does not exist: run `kiosk init` first." in str(error.value)


def test_responses_cannot_be_updated_or_deleted(db):
    add(db, comment="Tốt")
    for sql in ("UPDATE responses SET answers = '{}'", "DELETE FROM responses",
                "DELETE FROM response_private"):
        with pytest.raises(sqlite3.IntegrityError):
            db.execute(sql)
    assert db["responses"].count == 1 and db["response_private"].count == 1


def test_sequence_has_no_gaps_under_concurrent_writers(path):
    def writer():
        database = store.connect(path)
        for _ in range(10):
            add(database)
        database.close()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    database = store.connect(path)
    assert [r["seq"] for r in store.responses(database)] == list(range(1, 41))
    assert store.verify(database) == (40, None)
    database.close()


def test_the_hash_covers_every_stored_field(db):
    columns = set(db["responses"].columns_dict)
    assert columns - {"hash"} == set(chain.CHAINED_FIELDS) | set(chain.OPTIONAL_CHAINED_FIELDS)


def test_each_hash_commits_to_the_previous_one(db):
    for _ in range(3):
        add(db)
    records = list(store.responses(db))
    assert records[0]["prev_hash"] == chain.GENESIS_HASH
    for before, after in zip(records, records[1:], strict=False):
        assert after["prev_hash"] == before["hash"]
    assert all(chain.record_hash(r) == r["hash"] for r in records)


@pytest.mark.parametrize("statements, problem", [
    (["UPDATE responses SET answers = '{\"overall\":1}' WHERE seq = 2"],
     "Response #2 ({uuid2}): its content does not match its hash (altered). "),
    (["DELETE FROM responses WHERE seq = 2"], "Sequence gap: #2 missing before response #3."),
    (["DELETE FROM responses WHERE seq IN (2, 3)"], "Sequence gap: #2–#3 missing before response #4."),
    (["DELETE FROM responses WHERE seq = 4"],
     "The chain ends at #3 but response #4 was written: responses at the end were deleted or altered."),
    (["UPDATE response_private SET comment = 'Rất tốt' WHERE seq = 3"],
     "Response #3 ({uuid3}): its comment does not match the hash in the chain (altered)."),
])
def test_verify_names_the_first_broken_link(path, db, statements, problem):
    add(db)
    add(db)
    add(db, comment="Tệ")
    add(db)
    uuids = {f"uuid{r['seq']}": r["uuid"] for r in store.responses(db)}
    assert store.verify(db) == (4, None)
    tamper(path, *statements)
    checked, found = store.verify(db)
    assert found.startswith(problem.format(**uuids).strip())


def test_erasing_text_keeps_chain_and_figures(db):
    add(db, {"overall": 2}, comment="Cán bộ A nhũng nhiễu", phone="0912345678")
    before = list(store.responses(db))
    assert erasure.erase_private(db, 1, now_utc()) is True
    assert erasure.erase_private(db, 1, now_utc()) is False  # already erased
    private = db["response_private"].get(1)
    assert private["comment"] is None and private["phone"] is None and private["phone_salt"] is None
    assert private["erased_utc"] is not None
    assert list(store.responses(db)) == before
    assert store.verify(db) == (1, None)


def test_private_hash_is_salted_so_an_erased_phone_cannot_be_guessed(db):
    add(db, phone="0912345678")
    add(db, phone="0912345678")
    first, second = store.responses(db)
    assert first["contact_hash"] != second["contact_hash"]


def test_days_are_counted_in_ho_chi_minh_time(db):
    # 23:59:59 on 1 March in Hà Nội is 16:59:59 UTC; one second later is 2 March.
    last_of_day = datetime(2026, 3, 1, 16, 59, 59, tzinfo=timezone.utc)
    add(db, now=last_of_day)
    add(db, now=last_of_day + timedelta(seconds=1))
    add(db, now=datetime(2026, 2, 28, 17, 0, tzinfo=timezone.utc))  # 00:00 on 1 March
    assert len(store.responses_for_day(db, date(2026, 3, 1))) == 2
    assert len(store.responses_for_day(db, date(2026, 3, 2))) == 1
    assert day_bounds_utc(date(2026, 3, 1)) == ("2026-02-28T17:00:00.000Z", "2026-03-01T17:00:00.000Z")


def test_stale_drafts_become_incomplete_responses(db):
    old = now_utc() - timedelta(hours=1)
    draft = drafts.start_draft(db, "v1", old)
    drafts.save_answer(db, draft, "overall", 3, old)
    fresh = drafts.start_draft(db, "v1", now_utc())
    assert drafts.finish_stale_drafts(db, idle_before=now_utc() - timedelta(minutes=5),
                                     now=now_utc(), policy=POLICY) == 1
    [response] = store.responses(db)
    assert response["complete"] == 0 and response["answers"] == {"overall": 3}
    assert drafts.get_draft(db, fresh) is not None


def test_migrations_upgrade_an_old_database_in_place(tmp_path):
    """A kiosk upgraded in the field keeps its data: a later migration adds, never drops."""
    from sqlite_utils import Migrations

    db_path = tmp_path / "old.db"
    store.init(db_path, "k1")
    database = store.connect(db_path)
    add(database)
    later = Migrations("kiosk")
    for migration in schema.migrations._migrations:
        later(name=migration.name)(migration.fn)

    @later()
    def m999_add_device_note(db):
        db.execute("ALTER TABLE settings ADD COLUMN note TEXT")

    later.apply(database)
    assert database["responses"].count == 1
    assert "note" in database["settings"].columns_dict
    assert store.verify(database) == (1, None)
    database.close()


def test_each_store_has_an_install_and_a_copy_elsewhere_starts_its_own(tmp_path):
    import shutil

    from helpers import add_responses

    first = tmp_path / "a.db"
    add_responses(first, 3)
    with store.connect(first) as db:
        original = store.installs(db)
    assert len(original) == 1 and original[0]["from_seq"] == 1 and original[0]["id"]
    store.init(first, "test-kiosk")  # the same place: the same store
    with store.connect(first) as db:
        assert store.installs(db) == original
    copy = tmp_path / "b.db"
    shutil.copy(first, copy)
    store.init(copy, "test-kiosk")
    with store.connect(copy) as db:
        history = store.installs(db)
    assert history[0] == original[0] and history[1]["parent"] == original[0]["id"]
    assert history[1]["from_seq"] == 4 and history[1]["id"] != original[0]["id"]
    assert store.install_of(history, 3) == (history[0], 4)
    assert store.install_of(history, 4) == (history[1], None)


def test_a_store_from_before_install_ids_with_responses_stays_the_legacy_install(tmp_path):
    from helpers import add_responses

    path = tmp_path / "old.db"
    add_responses(path, 2)
    with store.connect(path) as db, store.write(db):  # as an older kiosk left it
        db.execute("DELETE FROM settings WHERE key IN ('install_history', 'install_place')")
    store.init(path, "test-kiosk")
    with store.connect(path) as db:
        assert store.installs(db) == [{"id": "", "from_seq": 1, "parent": None}]


def test_a_response_committed_with_the_clock_behind_is_marked_and_verify_stays_intact(tmp_path):
    from datetime import timedelta

    from helpers import add_responses
    from kiosk.clock import now_utc

    path, now = tmp_path / "k.db", now_utc()
    add_responses(path, 1, now=now)
    add_responses(path, 1, now=now - timedelta(seconds=1))
    add_responses(path, 1, now=now + timedelta(seconds=1))
    with store.connect(path) as db:
        assert [(m["seq"], m["mark"]) for m in store.marks(db)] == [(2, "clock_back")]
        assert store.verify(db) == (3, None)
        assert store.mark_counts(db) == {"clock_back": 1}


def test_a_clock_set_back_during_a_survey_marks_its_response(tmp_path):
    from datetime import timedelta

    path, now = tmp_path / "k.db", now_utc()
    store.init(path, "test-kiosk")
    with store.connect(path) as db:
        draft = drafts.start_draft(db, "2025.1", now)
        drafts.finish_draft(db, draft, complete=False, now=now - timedelta(minutes=10), policy=FlagPolicy())
        marks = store.marks(db)
    assert [(m["seq"], m["mark"]) for m in marks] == [(1, "clock_back")]
    assert "earlier than its own first tap" in marks[0]["detail"]
