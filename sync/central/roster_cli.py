"""`central unit|counter|officer ...`: the roster (issue 13), and old responses' officers mapped to its ids.

Renaming changes the roster only: stored responses keep the names as the kiosks sent them. Retiring keeps
the entry (old responses still name it); kiosks no longer offer it.
"""

import click

from .clikit import fail, ready_engine
from .store import accounts, roster, roster_match
from .store.schema import CentralStoreError


def _run(call, *args):
    """`call(engine, *args)` on the ready store; a CentralStoreError stops the command with its sentence."""
    _config, engine = ready_engine()
    try:
        return call(engine, *args)
    except CentralStoreError as error:
        fail(error)


def _state(row) -> str:
    return "active" if row.get("active", 1) and not row.get("retired_utc") else f"retired {row['retired_utc']}"


# --- units -------------------------------------------------------------------------

@click.group()
def unit():
    """Add, rename, retire and list units (the code kiosks are registered with: `add-kiosk --unit`)."""


@unit.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The unit's full name, as staff and kiosks show it.")
def unit_add(code, name):
    """Add unit CODE."""
    _run(roster.add_unit, code, name)
    click.echo(f"Unit {code} added.")


@unit.command("rename")
@click.argument("code")
@click.argument("name")
def unit_rename(code, name):
    """Give unit CODE a new NAME (its code, and every stored response, stay as they are)."""
    _run(roster.rename_unit, code, name)
    click.echo(f"Unit {code} renamed.")


@unit.command("retire")
@click.argument("code")
def unit_retire(code):
    """Retire unit CODE with its counters and officers (kept for history)."""
    _run(roster.retire_unit, code)
    click.echo(f"Unit {code} retired, with its counters and officers.")


@unit.command("list")
def unit_list():
    """Every unit: code, name, state (tab-separated)."""
    for row in _run(roster.list_units):
        click.echo(f"{row['code']}\t{row['name']}\t{_state(row)}")


# --- counters ----------------------------------------------------------------------

@click.group()
def counter():
    """Add, rename, retire and list the counters of a unit."""


@counter.command("add")
@click.option("--unit", "unit_code", required=True, help="The unit's code.")
@click.option("--id", "counter_id", required=True, help="The counter's id, unique within central: 1 to 36 letters, "
                                                        "digits, '.', '_' or '-' (e.g. Q1).")
@click.option("--name", required=True, help="The counter's name, as kiosks show it (e.g. \"Quầy 1\").")
def counter_add(unit_code, counter_id, name):
    """Add a counter to a unit."""
    _run(roster.add_counter, unit_code, counter_id, name)
    click.echo(f"Counter {counter_id} added to {unit_code}.")


@counter.command("rename")
@click.argument("counter_id")
@click.argument("name")
def counter_rename(counter_id, name):
    """Give counter COUNTER_ID a new NAME."""
    _run(roster.rename_counter, counter_id, name)
    click.echo(f"Counter {counter_id} renamed.")


@counter.command("retire")
@click.argument("counter_id")
def counter_retire(counter_id):
    """Retire counter COUNTER_ID: kiosks no longer offer it."""
    _run(roster.retire_counter, counter_id)
    click.echo(f"Counter {counter_id} retired.")


@counter.command("list")
@click.option("--unit", "unit_code", help="Only this unit's.")
def counter_list(unit_code):
    """Counters: id, unit, name, state (tab-separated)."""
    for row in _run(roster.list_counters, unit_code):
        click.echo(f"{row['id']}\t{row['unit']}\t{row['name']}\t{_state(row)}")


# --- officers ----------------------------------------------------------------------

@click.group()
def officer():
    """Add, rename, retire and list officers; map old responses' officer names to their ids."""


@officer.command("add")
@click.option("--unit", "unit_code", required=True, help="The unit's code.")
@click.option("--name", required=True, help="The officer's name as kiosks show it, with its diacritics.")
@click.option("--id", "officer_id", help="The officer's id (default: generated, cb- and 8 hex digits).")
def officer_add(unit_code, name, officer_id):
    """Add an officer to a unit and print their id."""
    click.echo(_run(roster.add_officer, unit_code, name, officer_id))


@officer.command("rename")
@click.argument("officer_id")
@click.argument("name")
def officer_rename(officer_id, name):
    """Give officer OFFICER_ID a new NAME (stored responses keep the name as it was)."""
    _run(roster.rename_officer, officer_id, name)
    click.echo(f"Officer {officer_id} renamed.")


@officer.command("retire")
@click.argument("officer_id")
def officer_retire(officer_id):
    """Retire officer OFFICER_ID: kiosks no longer offer them; their responses stay theirs."""
    _run(roster.retire_officer, officer_id)
    click.echo(f"Officer {officer_id} retired.")


@officer.command("list")
@click.option("--unit", "unit_code", help="Only this unit's.")
def officer_list(unit_code):
    """Officers: id, unit, name, state, logins (tab-separated)."""
    officers = _run(roster.list_officers, unit_code)
    logins = {}
    for user in _run(accounts.unit_users, unit_code):
        if user["officer_id"]:
            logins.setdefault(user["officer_id"], []).append(user["name"])
    for row in officers:
        click.echo(f"{row['id']}\t{row['unit']}\t{row['display_name']}\t{_state(row)}\t"
                   f"{','.join(logins.get(row['id'], [])) or '-'}")


@officer.command("match")
@click.option("--apply", is_flag=True, help="Give the matching responses their officer's id (else only list).")
@click.option("--unit", "unit_code", help="Only this unit's responses.")
def officer_match(apply, unit_code):
    """Map old responses' officer names to roster ids: a name that is exactly (NFC) the name of ONE active
    officer of the same unit is mapped; the rest are listed (unit, name, responses) to resolve by hand
    with `central officer resolve`."""
    found = _run(roster_match.match, apply, unit_code)
    verb = "Mapped" if apply else "Would map (give --apply)"
    for row in found["mapped"]:
        click.echo(f"{verb}\t{row['unit']}\t{row['name']}\t{row['responses']}\t-> {row['officer_id']}")
    for row in found["unresolved"]:
        why = ("several officers have this name: " + ", ".join(i for i, _active in row["candidates"])
               if len(row["candidates"]) > 1 else "no active officer of the unit has this name")
        click.echo(f"Unresolved\t{row['unit']}\t{row['name']}\t{row['responses']}\t({why})")
    click.echo(f"{len(found['mapped'])} name(s) {'mapped' if apply else 'to map'}, "
               f"{len(found['unresolved'])} unresolved.", err=True)


@officer.command("resolve")
@click.option("--unit", "unit_code", required=True, help="The unit of the responses.")
@click.option("--name", required=True, help="The officer's name as the old responses hold it.")
@click.option("--id", "officer_id", required=True, help="The roster id to give them.")
def officer_resolve(unit_code, name, officer_id):
    """Give the unit's responses that name NAME and have no officer id yet the id ID."""
    count = _run(roster_match.resolve, unit_code, name, officer_id)
    click.echo(f"{count} response(s) of {unit_code} naming {name} now carry officer {officer_id}.")


@officer.command("link-user")
@click.argument("login")
@click.argument("officer_id")
def officer_link_user(login, officer_id):
    """Link officer login LOGIN to roster entry OFFICER_ID: it then sees that officer's responses."""
    _run(accounts.link_user, login, officer_id)
    click.echo(f"Login {login} linked to officer {officer_id}; its sessions have ended.")
