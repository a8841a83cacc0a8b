"""`central questionnaire …` and `central kiosk-settings …`: what central sends the kiosks in their
configuration (``sync.central.kioskconfig``), and which kiosks run which questionnaire (their health reports).

The commands are added to the `central` group by ``sync.central.cli``.
"""

import hashlib
import tomllib
from pathlib import Path

import click

from kiosk.clock import local_time, now_utc
from kiosk.questionnaire import QuestionnaireError, parse
from kiosk.settings import SettingError
from kiosk.text import nfc

from . import kioskconfig
from .store import fleet, roster, schema


class Refused(click.ClickException):
    """A file or value central will not send to the kiosks: ``Error: …`` and exit status 2."""

    exit_code = 2


def _ready():
    from .cli import _ready_engine  # here, not above: sync.central.cli imports this module
    return _ready_engine()[1]


def _unit(engine, unit):
    """``unit`` in NFC (None stays None), refused unless a kiosk or the roster has that unit."""
    if unit is None:
        return None
    unit = nfc(unit).strip()
    with engine.connect() as conn:
        known = roster.get_unit(conn, unit) is not None or conn.execute(
            schema.kiosks.select().where(schema.kiosks.c.unit == unit).limit(1)).first() is not None
    if not known:
        raise Refused(f"No kiosk and no roster entry has the unit {unit!r}: check its spelling.")
    return unit


@click.group("questionnaire")
def questionnaire():
    """Publish a questionnaire to the kiosks; list the versions and who runs them."""


@questionnaire.command("publish")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--unit", help="Only for this unit's kiosks (default: every unit without its own).")
def publish(file, unit):
    """Check FILE with the kiosk's own checker and publish it: each kiosk of the unit (or every unit) gets
    it at its next sync and uses it from the next survey. Every version is kept.

    A broken file is refused with the field named (exit status 2) and nothing is stored.
    """
    engine = _ready()
    try:
        source = file.read_bytes().decode("utf-8")
        checked = parse(tomllib.loads(source), str(file))
    except UnicodeDecodeError:
        raise Refused(f"{file}: the file is not UTF-8.") from None
    except tomllib.TOMLDecodeError as error:
        raise Refused(f"{file}: not valid TOML ({error}).") from None
    except QuestionnaireError as error:
        raise Refused(str(error)) from None
    if len(checked.version) > 64:
        raise Refused(f"{file}: version must be at most 64 characters.")
    unit = _unit(engine, unit)
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    earlier = [row for row in fleet.questionnaire_list(engine) if row["version"] == checked.version]
    if any(row["sha256"] != digest for row in earlier):
        raise Refused(f"{file}: version {checked.version!r} was published before with other content; "
                      "give the changed questionnaire a new version.")
    newest = fleet.newest_questionnaire(engine, unit or "")
    if newest is not None and newest["unit"] == unit and newest["sha256"] == digest:
        click.echo(f"Questionnaire {checked.version} is already the newest for {_where(unit)}: nothing changed.")
        return
    number = fleet.publish_questionnaire(engine, checked.version, unit, source, digest,
                                         "(central questionnaire publish)", now_utc())
    click.echo(f"Published questionnaire {checked.version} (#{number}) for {_where(unit)}; "
               "its kiosks use it from their next sync.")


@questionnaire.command("list")
def list_questionnaires():
    """Every published version, newest first, and the kiosks running each version (from their health
    reports; a kiosk on a version never published runs its own file)."""
    engine = _ready()
    rows = fleet.questionnaire_list(engine)
    if not rows:
        click.echo("No questionnaire published yet: kiosks use their own file.")
    for row in rows:
        click.echo(f"#{row['id']}  {row['version']}  for {_where(row['unit'])}  published "
                   f"{local_time(row['published_utc'])}  sha256 {row['sha256'][:12]}  "
                   f"running on {len(row['kiosks'])} kiosk(s){': ' if row['kiosks'] else ''}"
                   f"{', '.join(row['kiosks'])}")
    running = {}
    for kiosk in fleet.fleet_rows(engine):
        running.setdefault(kiosk["questionnaire_version"] or "(not reported)", []).append(kiosk["kiosk_id"])
    if running:
        click.echo("Kiosks by the version they report:")
        for version, kiosks in sorted(running.items()):
            click.echo(f"  {version}: {', '.join(kiosks)}")


def _where(unit):
    return f"unit {unit}" if unit else "every unit"


@click.group("kiosk-settings")
def kiosk_settings():
    """Central's overrides of kiosk settings (idle time, flags), sent in each kiosk's configuration."""


@kiosk_settings.command("set")
@click.argument("name")
@click.argument("value")
@click.option("--unit", help="Only for this unit's kiosks (beats the every-unit value).")
def set_setting(name, value, unit):
    """Set kiosk setting NAME to VALUE for every unit (or --unit); checked as the kiosk checks it."""
    try:
        value = kioskconfig.check_override(name, value)
    except SettingError as error:
        raise Refused(str(error)) from None
    engine = _ready()
    unit = _unit(engine, unit)
    fleet.set_override(engine, name, unit, value, "(central kiosk-settings set)", now_utc())
    click.echo(f"{name}={value} for {_where(unit)}; the kiosks apply it at their next sync.")


@kiosk_settings.command("unset")
@click.argument("name")
@click.option("--unit", help="The unit's own value (default: the every-unit value).")
def unset_setting(name, unit):
    """Remove central's value of NAME: the kiosks go back to the every-unit value, or their own."""
    engine = _ready()
    unit = nfc(unit).strip() if unit else None
    if not fleet.unset_override(engine, name, unit):
        raise Refused(f"Central has no value of {name} for {_where(unit)}.")
    click.echo(f"{name} unset for {_where(unit)}; the kiosks apply it at their next sync.")


@kiosk_settings.command("list")
def list_settings():
    """Every override central sends, by name and unit."""
    rows = fleet.override_list(_ready())
    if not rows:
        click.echo("No overrides: every kiosk uses its own settings.")
    for row in rows:
        click.echo(f"{row['name']}={row['value']}  for {_where(row['unit'])}  (set {local_time(row['set_utc'])})")
