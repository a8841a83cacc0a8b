"""One spelling for every name: NFD typed or sent at each entry point is stored and compared as NFC.

On SQLite and PostgreSQL: the CLI, the staff login and the pages' unit
parameter, the summary API's unit, and a batch row's counter and officer; and
the 0007 migration normalising names already stored.
"""

import unicodedata

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from conftest import central_env_for
from helpers import add_responses, log_in, post, STAFF_PASSWORD as PASSWORD, today, wire_responses
from kiosk import indices, store
from sync.central.store import accounts, database, migrations, schema, tallies
from sync import wire
from sync.central.cli import central

UNIT = "Sở Xây dựng"
NFD_UNIT = unicodedata.normalize("NFD", UNIT)
OFFICER = "Nguyễn Thị Lan"
NFD_OFFICER = unicodedata.normalize("NFD", OFFICER)


def test_the_spellings_really_differ():
    assert NFD_UNIT != UNIT and len(NFD_UNIT) > len(UNIT) and unicodedata.normalize("NFC", NFD_UNIT) == UNIT


def cli(env, *args, input=None):
    return CliRunner().invoke(central, list(args), env=env, input=input, catch_exceptions=False)


@pytest.fixture
def unit_with_three(central_app, central_engine, tmp_path):
    """A kiosk registered by the CLI with its unit in NFD; three responses, officer on duty in NFD."""
    env = central_env_for(str(central_engine.url.render_as_string(hide_password=False)))
    added = cli(env, "add-kiosk", "k-1", "--unit", NFD_UNIT)
    assert added.exit_code == 0, added.output
    secret = added.output.splitlines()[0]
    path = tmp_path / "k-1.db"
    store.init(path, "k-1")
    with store.connect(path) as db, store.write(db):
        store.set_setting(db, "officer", NFD_OFFICER)  # as an older kiosk might have kept it
        store.set_setting(db, "counter", unicodedata.normalize("NFD", "Quầy 3"))
    add_responses(path, 3, kiosk_id="k-1", answers={"overall": 2, "attitude": 1},
                  comment="Chờ lâu", phone="0912345678")
    client = central_app.test_client()
    reply = post(client, secret, wire.batch("k-1", wire_responses(path)), kiosk="k-1")
    assert reply.get_json()["accepted"] == 3
    client.env = env
    return client


def test_batch_names_and_cli_units_are_stored_in_nfc(unit_with_three, central_engine):
    with central_engine.connect() as conn:
        assert conn.execute(select(schema.kiosks.c.unit)).scalar() == UNIT
        columns = schema.responses.c
        stored = conn.execute(select(columns.unit, columns.counter, columns.officer)).all()
        assert set(stored) == {(UNIT, "Quầy 3", OFFICER)}
        assert set(conn.execute(select(schema.cases.c.unit, schema.cases.c.officer)).all()) == {(UNIT, OFFICER)}
        tallied = conn.execute(select(schema.day_tallies.c.unit, schema.day_tallies.c.counter,
                                      schema.day_tallies.c.officer)).all()
        assert tallied == [(UNIT, "Quầy 3", OFFICER)]


def test_a_supervisor_added_with_an_nfd_unit_sees_the_same_three_responses(unit_with_three, central_app):
    for name, unit in (("lan", UNIT), ("lan2", NFD_UNIT)):
        made = cli(unit_with_three.env, "add-user", name, "--role", "supervisor", "--unit", unit,
                   input=PASSWORD + "\n")
        assert made.exit_code == 0 and made.output == f"User {name} (supervisor, {UNIT}) created.\n"
    pages = []
    for name in ("lan", "lan2"):
        client = central_app.test_client()
        assert log_in(client, name).status_code == 302
        pages.append(client.get(f"/?date={today()}&unit={NFD_UNIT}"))
        assert pages[-1].status_code == 200  # the NFD unit parameter is their own unit
        assert '<h2>Số phiếu</h2><p class="big">3</p>' in pages[-1].get_data(as_text=True)
    assert len(client.get("/cases?unit=" + NFD_UNIT).get_data(as_text=True).split('href="/cases/')) == 4


def test_an_officer_added_with_an_nfd_name_is_matched_and_sees_their_cases(unit_with_three, central_app):
    """Roster names typed in NFD are stored in NFC, so the old responses' NFD-sent name matches them."""
    assert cli(unit_with_three.env, "unit", "add", NFD_UNIT, "--name", NFD_UNIT).exit_code == 0
    added = cli(unit_with_three.env, "officer", "add", "--unit", NFD_UNIT, "--name", NFD_OFFICER)
    officer_id = added.output.strip()
    matched = cli(unit_with_three.env, "officer", "match", "--apply")
    assert matched.stdout == f"Mapped\t{UNIT}\t{OFFICER}\t3\t-> {officer_id}\n", matched.output
    made = cli(unit_with_three.env, "add-user", "lan-officer", "--role", "officer", "--officer", officer_id,
               input=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    client = central_app.test_client()
    log_in(client, "lan-officer")
    page = client.get(f"/?date={today()}").get_data(as_text=True)
    assert '<h2>Số phiếu</h2><p class="big">3</p>' in page
    assert len(client.get("/cases").get_data(as_text=True).split('href="/cases/')) == 4


def test_the_summary_api_takes_an_nfd_unit(unit_with_three, central_engine):
    token = accounts.add_token(central_engine, "names")
    auth = {"Authorization": f"Bearer {token}"}
    for unit in (UNIT, NFD_UNIT):
        reply = unit_with_three.get("/api/v1/summary", query_string={"date": today(), "unit": unit}, headers=auth)
        assert reply.status_code == 200 and reply.get_json()["responses"] == 3
        assert reply.get_json()["unit"] == UNIT


def test_login_with_an_nfd_name_is_the_same_user(central_app, central_engine):
    accounts.add_user(central_engine, "an", "supervisor", UNIT, PASSWORD)
    assert accounts.get_user(central_engine, name=unicodedata.normalize("NFD", "an"))["unit"] == UNIT
    assert log_in(central_app.test_client(), "an").status_code == 302


def test_a_display_name_with_a_control_character_is_refused(central_engine):
    env = central_env_for(str(central_engine.url.render_as_string(hide_password=False)))
    made = cli(env, "add-user", "bad1", "--role", "supervisor", "--unit", UNIT, "--display-name", "An\x00",
               input=PASSWORD + "\n")
    assert made.exit_code == 1 and "--display-name must be 1 to 80 printable characters" in made.output
    assert accounts.get_user(central_engine, name="bad1") is None


def test_the_migration_normalises_names_already_stored(central_engine, tmp_path):
    """A store written before 0007 with names in both spellings: one spelling after, tallies added up."""
    secret = accounts.add_kiosk(central_engine, "k-1", UNIT)
    from sync.central import app as central
    from sync.central.config import load
    app = central.create_app(load(central_env_for(str(central_engine.url.render_as_string(hide_password=False)))),
                             central_engine)
    path = tmp_path / "k-1.db"
    add_responses(path, 2, kiosk_id="k-1")
    post(app.test_client(), secret, wire.batch("k-1", wire_responses(path)), kiosk="k-1")
    accounts.add_user(central_engine, "lan", "supervisor", UNIT, PASSWORD, display_name=OFFICER)
    before = tallies.tallies_between(central_engine, "2000-01-01", "2999-12-31")
    with database.write(central_engine) as conn:  # as an older central stored them
        conn.execute(text("UPDATE kiosks SET unit = :u"), {"u": NFD_UNIT})
        conn.execute(text("UPDATE users SET unit = :u, display_name = :d"), {"u": NFD_UNIT, "d": NFD_OFFICER})
        conn.execute(text("UPDATE responses SET unit = :u WHERE seq = 1"), {"u": NFD_UNIT})
        first = conn.execute(select(schema.unit_day_tallies)).mappings().one()
        conn.execute(schema.unit_day_tallies.insert().values(local_day=first["local_day"], unit=NFD_UNIT,
                                                         flagged=first["flagged"], tally=first["tally"]))
        conn.execute(text("DELETE FROM schema_migrations WHERE name = '0007_quarantine_erasure'"))
        conn.execute(text("DROP TABLE erasure_notices"))
    assert migrations.migrate(central_engine) == ["0007_quarantine_erasure"]
    with central_engine.connect() as conn:
        assert conn.execute(select(schema.kiosks.c.unit)).scalar() == UNIT
        assert conn.execute(select(schema.users.c.unit, schema.users.c.display_name)).one() == (UNIT, OFFICER)
        assert set(conn.execute(select(schema.responses.c.unit)).scalars()) == {UNIT}
    after = tallies.tallies_between(central_engine, "2000-01-01", "2999-12-31")
    assert len(after) == len(before) == 1 and after[0]["unit"] == UNIT
    assert indices.summarize_tallies(before)["responses"] == 2
    assert indices.summarize_tallies(after)["responses"] == 4  # the two rows were added into one


@pytest.mark.parametrize("path", ["/?unit=%00", "/cases?unit=Unit%00A", "/export.csv?unit=%1b", "/trends?unit=%00",
                                  "/report?unit=%E2%80%AE", "/?unit=" + "x" * 65])
def test_a_unit_parameter_no_store_can_hold_is_a_400(central_app, central_engine, path):
    accounts.add_user(central_engine, "admin", "admin", None, PASSWORD)
    client = central_app.test_client()
    log_in(client, "admin")
    reply = client.get(path)
    assert reply.status_code == 400 and "Không có đơn vị này." in reply.get_data(as_text=True)


def test_a_login_name_with_a_nul_is_a_400_not_a_server_error(central_app, central_engine):
    from helpers import csrf
    accounts.add_user(central_engine, "admin", "admin", None, PASSWORD)
    client = central_app.test_client()
    reply = client.post("/login", data={"csrf_token": csrf(client), "name": "ad\x00min", "password": PASSWORD})
    assert reply.status_code == 400
    assert log_in(client, "admin").status_code == 302


def test_the_kiosk_migration_normalises_the_duty_names_it_keeps(tmp_path):
    path = tmp_path / "kiosk.db"
    store.init(path, "k-1")
    with store.connect(path) as db:
        with store.write(db):
            store.set_setting(db, "officer", NFD_OFFICER)
            store.set_setting(db, "counter", unicodedata.normalize("NFD", "Quầy 3"))
            db.execute("DELETE FROM _sqlite_migrations WHERE name = 'i9b_nfc_duty_names'")  # as before it
    store.init(path, "k-1")
    with store.connect(path) as db:
        assert (store.get_setting(db, "officer"), store.get_setting(db, "counter")) == (OFFICER, "Quầy 3")
