"""`central unit|counter|officer ...` and `central add-user --officer` (issue 13): exact messages, ids that
never change, nothing changed by a refused command. On SQLite and PostgreSQL."""

import re

from click.testing import CliRunner

from conftest import central_env_for
from helpers import STAFF_PASSWORD
from sync.central.cli import central
from sync.central.store import accounts, roster

UNIT = "Sở Xây dựng"


def run(engine, *args, input=None):
    env = central_env_for(engine.url.render_as_string(hide_password=False))
    return CliRunner().invoke(central, list(args), env=env, input=input)


def test_units_counters_and_officers_are_added_renamed_retired_and_listed(central_engine):
    assert run(central_engine, "unit", "add", UNIT, "--name", "Sở Xây dựng tỉnh Đắk Lắk").output == \
        f"Unit {UNIT} added.\n"
    assert run(central_engine, "counter", "add", "--unit", UNIT, "--id", "Q1", "--name", "Quầy 1").output == \
        f"Counter Q1 added to {UNIT}.\n"
    made = run(central_engine, "officer", "add", "--unit", UNIT, "--name", "Nguyễn Văn Hùng")
    officer_id = made.output.strip()
    assert made.exit_code == 0 and re.fullmatch(r"cb-[0-9a-f]{8}", officer_id)
    assert run(central_engine, "officer", "add", "--unit", UNIT, "--name", "Lê Thị Lan", "--id", "CB002").output \
        == "CB002\n"
    assert run(central_engine, "officer", "rename", officer_id, "Nguyễn Văn Hưng").output == \
        f"Officer {officer_id} renamed.\n"
    assert run(central_engine, "officer", "retire", "CB002").output == "Officer CB002 retired.\n"
    assert run(central_engine, "counter", "rename", "Q1", "Quầy một").output == "Counter Q1 renamed.\n"
    assert run(central_engine, "unit", "rename", UNIT, "Sở XD").output == f"Unit {UNIT} renamed.\n"

    listed = run(central_engine, "officer", "list", "--unit", UNIT).output.splitlines()
    assert listed[0] == f"CB002\t{UNIT}\tLê Thị Lan\t" + listed[0].split("\t")[3] + "\t-"
    assert listed[0].split("\t")[3].startswith("retired 20")
    assert listed[1] == f"{officer_id}\t{UNIT}\tNguyễn Văn Hưng\tactive\t-"
    assert run(central_engine, "counter", "list").output == f"Q1\t{UNIT}\tQuầy một\tactive\n"
    assert run(central_engine, "unit", "list").output == f"{UNIT}\tSở XD\tactive\n"
    assert roster.kiosk_roster(central_engine, UNIT) == {"counters": [{"id": "Q1", "name": "Quầy một"}],
                                                         "officers": [{"id": officer_id, "name": "Nguyễn Văn Hưng"}]}
    assert run(central_engine, "unit", "retire", UNIT).output == \
        f"Unit {UNIT} retired, with its counters and officers.\n"
    assert roster.kiosk_roster(central_engine, UNIT) == {"counters": [], "officers": []}


def test_refused_roster_commands_say_why_and_change_nothing(central_engine):
    run(central_engine, "unit", "add", UNIT, "--name", "Sở")
    run(central_engine, "counter", "add", "--unit", UNIT, "--id", "Q1", "--name", "Quầy 1")
    before = (roster.list_units(central_engine), roster.list_counters(central_engine),
              roster.list_officers(central_engine))
    for args, message in [
        (("counter", "add", "--unit", UNIT, "--id", "Q1", "--name", "Khác"), "A counter with id 'Q1' already exists."),
        (("counter", "add", "--unit", "Không có", "--id", "Q2", "--name", "Q"),
         "No unit 'Không có': add it first with `central unit add`."),
        (("officer", "add", "--unit", UNIT, "--name", "An", "--id", "cán bộ 1"),
         "The officer id 'cán bộ 1' is not valid: use 1 to 36 letters, digits, '.', '_' or '-'."),
        (("officer", "add", "--unit", UNIT, "--name", "x" * 81), "The officer's name must be 1 to 80 characters"),
        (("officer", "rename", "cb-none", "An"), "No officer 'cb-none'."),
        (("counter", "retire", "Q9"), "No counter 'Q9'."),
    ]:
        result = run(central_engine, *args)
        assert result.exit_code == 1 and result.output.startswith(f"Error: {message}"), (args, result.output)
    assert (roster.list_units(central_engine), roster.list_counters(central_engine),
            roster.list_officers(central_engine)) == before


def test_an_officer_login_is_linked_to_its_roster_entry(central_engine):
    run(central_engine, "unit", "add", UNIT, "--name", "Sở")
    run(central_engine, "unit", "add", "Sở Y tế", "--name", "Sở Y tế")
    officer_id = run(central_engine, "officer", "add", "--unit", UNIT, "--name", "Nguyễn Văn Hùng").output.strip()
    made = run(central_engine, "add-user", "hung", "--role", "officer", "--officer", officer_id,
               input=STAFF_PASSWORD + "\n")
    assert made.output == f"User hung (officer, {UNIT}, officer {officer_id}) created.\n"
    user = accounts.get_user(central_engine, name="hung")
    assert (user["officer_id"], user["unit"], user["display_name"]) == (officer_id, UNIT, "Nguyễn Văn Hùng")
    assert "\thung\n" in run(central_engine, "officer", "list").output

    for args, message in [
        (("add-user", "x1", "--role", "officer", "--unit", UNIT),
         "An officer login is linked to its roster entry: give --officer ID (see `central officer list`)."),
        (("add-user", "x1", "--role", "officer", "--officer", "cb-none"), "No officer 'cb-none' in the roster"),
        (("add-user", "x1", "--role", "officer", "--officer", officer_id, "--unit", "Sở Y tế"),
         f"Officer {officer_id!r} belongs to '{UNIT}', not 'Sở Y tế'."),
        (("add-user", "x1", "--role", "supervisor", "--unit", UNIT, "--officer", officer_id),
         "--officer is for role officer only."),
    ]:
        result = run(central_engine, *args, input=STAFF_PASSWORD + "\n")
        assert result.exit_code == 1 and result.output.startswith(f"Error: {message}"), (args, result.output)
        assert accounts.get_user(central_engine, name="x1") is None


def test_an_old_officer_login_is_linked_by_hand(central_engine):
    run(central_engine, "unit", "add", UNIT, "--name", "Sở")
    officer_id = run(central_engine, "officer", "add", "--unit", UNIT, "--name", "Lan").output.strip()
    accounts.add_user(central_engine, "lan-sup", "supervisor", UNIT, STAFF_PASSWORD)
    assert run(central_engine, "officer", "link-user", "lan-sup", officer_id).output == \
        "Error: 'lan-sup' is a supervisor login: only officer logins are linked.\n"
    assert run(central_engine, "officer", "link-user", "nobody", officer_id).output == \
        "Error: No user named 'nobody'.\n"
    from sqlalchemy import update

    from sync.central.store import database, schema
    with database.write(central_engine) as conn:  # an officer login as made before the roster
        conn.execute(update(schema.users).where(schema.users.c.name == "lan-sup").values(role="officer"))
    version = accounts.get_user(central_engine, name="lan-sup")["session_version"]
    assert run(central_engine, "officer", "link-user", "lan-sup", officer_id).output == \
        f"Login lan-sup linked to officer {officer_id}; its sessions have ended.\n"
    user = accounts.get_user(central_engine, name="lan-sup")
    assert user["officer_id"] == officer_id and user["session_version"] == version + 1


def test_match_and_resolve_from_the_command_line(old_responses):
    engine = old_responses
    listed = run(engine, "officer", "match")
    assert listed.stdout == (f"Would map (give --apply)\t{UNIT}\tAn\t2\t-> cb-an\n"
                             f"Unresolved\t{UNIT}\tBình\t2\t(several officers have this name: cb-binh-1, cb-binh-2)\n"
                             f"Unresolved\t{UNIT}\tCường\t1\t(no active officer of the unit has this name)\n")
    assert "1 name(s) to map, 2 unresolved." in listed.stderr
    assert run(engine, "officer", "match", "--apply").stdout.startswith(f"Mapped\t{UNIT}\tAn\t2\t-> cb-an\n")
    assert run(engine, "officer", "resolve", "--unit", UNIT, "--name", "Bình", "--id", "cb-binh-1").output == \
        f"2 response(s) of {UNIT} naming Bình now carry officer cb-binh-1.\n"
    assert run(engine, "officer", "match").stdout == \
        f"Unresolved\t{UNIT}\tCường\t1\t(no active officer of the unit has this name)\n"
