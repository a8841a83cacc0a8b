"""`central`: the department's server's commands (init, accounts, erasure, run)."""

import logging
import os
import re
import sys
import threading
import time
from pathlib import Path

import click
from sqlalchemy.exc import DBAPIError

from kiosk import config as kiosk_config
from kiosk import serving
from kiosk.clock import now_utc
from kiosk.config import SettingError
from kiosk.questionnaire import QuestionnaireError
from kiosk.text import nfc

from . import clikit
from . import config as central_config
from . import checking, erasure, fleetcli, roster_cli
from .store import accounts, compliments, migrations, schema, targets
from .app import create_app

UNIT = re.compile(r"^[^\x00-\x1f\x7f]{1,64}$")
EMAIL = re.compile(r"[^@\s,;<>\"]{1,64}@[^@\s,;<>\"]{1,185}\.[A-Za-z]{2,63}")


_fail, _engine, _ready_engine, _read_password = clikit.fail, clikit.engine, clikit.ready_engine, clikit.read_password


@click.group(help="The department's central server for the satisfaction kiosks.\n\n"
                  + central_config.SETTINGS_HELP)
def central():
    pass


@central.command()
def init():
    """Create or upgrade central's database (never drops anything)."""
    path = os.environ.get("CENTRAL_DB", "").strip()
    if path and not os.environ.get("DATABASE_URL"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    _config, engine = _engine()
    try:
        applied = migrations.migrate(engine)
        settled = compliments.settle(engine)
    except DBAPIError as error:
        _fail(f"Cannot open the central database ({engine.url.render_as_string()}): {error.orig}")
    click.echo(f"Central database ready ({engine.dialect.name}); "
               f"{'applied ' + ', '.join(applied) if applied else 'already up to date'}.")
    if settled["moved"] or settled["added"]:
        click.echo(f"Compliments (comments that need no answer): {settled['moved']} untouched case(s) moved to "
                   f"the compliments page, {settled['added']} earlier comment(s) listed there.")


@central.command("add-kiosk")
@click.argument("kiosk_id")
@click.option("--unit", required=True, help="The unit (department or one-stop shop) the kiosk serves.")
def add_kiosk(kiosk_id, unit):
    """Register a kiosk and print its secret (shown only once)."""
    unit = nfc(unit)
    if not kiosk_config.KIOSK_ID_PATTERN.match(kiosk_id):
        _fail(f"KIOSK_ID must be 1 to 64 letters, digits, '.', '_' or '-', not {kiosk_id!r}.")
    if not UNIT.match(unit):
        _fail("--unit must be 1 to 64 printable characters.")
    _config, engine = _ready_engine()
    try:
        secret = accounts.add_kiosk(engine, kiosk_id, unit)
    except schema.CentralStoreError as error:
        _fail(error)
    click.echo(secret)
    click.echo(f"Kiosk {kiosk_id} registered for unit {unit}. Set KIOSK_SECRET to the line above on "
               "that kiosk; it is not shown again.", err=True)


@central.command("add-token")
@click.argument("name")
def add_token(name):
    """Create a read-only API token and print it (shown only once)."""
    name = nfc(name)
    if not UNIT.match(name):
        _fail("NAME must be 1 to 64 printable characters.")
    _config, engine = _ready_engine()
    try:
        click.echo(accounts.add_token(engine, name))
    except schema.CentralStoreError as error:
        _fail(error)


@central.command("add-user")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(schema.ROLES), help="What the user may see.")
@click.option("--unit", help="The unit a supervisor belongs to (an officer's is their roster entry's).")
@click.option("--officer", "officer_id", help="For role officer (required): the roster id the login sees the "
                                              "responses of (see `central officer list`).")
@click.option("--display-name", help="The name shown for the login (default: the officer's roster name, or NAME).")
@click.option("--email", help="Where alerts reach a supervisor (optional).")
def add_user(name, role, unit, officer_id, display_name, email):
    """Create a staff account for the central pages.

    Asks for the password twice on a terminal; otherwise reads one line from standard input.
    Names, unit and display name are stored in Unicode NFC, whatever form they were typed in.
    """
    name, unit, display_name = nfc(name), nfc(unit), nfc(display_name)
    if unit is not None and not UNIT.match(unit):
        _fail("--unit must be 1 to 64 printable characters.")
    if display_name is not None and not re.fullmatch(r"[^\x00-\x1f\x7f-\x9f]{1,80}", display_name):
        _fail("--display-name must be 1 to 80 printable characters.")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}", name):
        _fail("NAME must be 2 to 64 letters, digits, '.', '_', '@' or '-'.")
    if email is not None and not EMAIL.fullmatch(email):
        _fail("--email must be one email address, e.g. lan@example.gov.vn.")
    if role == "officer" and not officer_id:
        _fail("An officer login is linked to its roster entry: give --officer ID (see `central officer list`).")
    _config, engine = _ready_engine()
    password = _read_password()
    try:
        accounts.add_user(engine, name, role, unit, password, display_name, email, officer_id)
    except schema.CentralStoreError as error:
        _fail(error)
    user = accounts.get_user(engine, name=name)
    click.echo(f"User {name} ({role}{', ' + user['unit'] if user['unit'] else ''}"
               f"{', officer ' + officer_id if officer_id else ''}) created.")


@central.command("set-password")
@click.argument("name")
def set_password(name):
    """Give a staff account a new password and end every session it has.

    Asks for the password twice on a terminal; otherwise reads one line from standard input.
    """
    _config, engine = _ready_engine()
    password = _read_password()
    try:
        accounts.set_password(engine, name, password)
    except schema.CentralStoreError as error:
        _fail(error)
    click.echo(f"Password of {name} changed; every session of {name} has ended.")


@central.command("disable-user")
@click.argument("name")
def disable_user(name):
    """Stop a staff account from logging in and end every session it has (`enable-user` undoes it)."""
    _set_disabled(name, True, f"User {name} disabled; every session of {name} has ended.")


@central.command("enable-user")
@click.argument("name")
def enable_user(name):
    """Let a disabled staff account log in again (with its password)."""
    _set_disabled(name, False, f"User {name} enabled.")


def _set_disabled(name, disabled, done):
    _config, engine = _ready_engine()
    try:
        accounts.set_disabled(engine, name, disabled, now_utc())
    except schema.CentralStoreError as error:
        _fail(error)
    click.echo(done)


@central.command("set-target")
@click.argument("unit")
@click.argument("percent", type=click.IntRange(1, 100))
def set_target(unit, percent):
    """Set a unit's target share satisfied overall (PERCENT, 1 to 100), shown on the daily summary."""
    unit = nfc(unit)
    if not UNIT.match(unit):
        _fail("UNIT must be 1 to 64 printable characters.")
    _config, engine = _ready_engine()
    try:
        targets.set_target(engine, unit, percent, "(central set-target)", now_utc())
    except schema.CentralStoreError as error:
        _fail(error)
    click.echo(f"Target of {unit}: {percent}% satisfied overall.")


@central.command("erase-contact")
@click.argument("response_uuid", required=False)
@click.option("--expired", is_flag=True, help="Erase every phone number whose case closed, or that was "
                                              "quarantined, more than CENTRAL_CONTACT_DAYS days ago.")
def erase_contact(response_uuid, expired):
    """Erase a citizen's phone number at once, or those past retention.

    Figures and the hash chain are unchanged: the chain holds only a salted hash.
    """
    if bool(response_uuid) == expired:
        _fail("Give either a response UUID or --expired.")
    config, engine = _ready_engine()
    try:
        if expired:
            count = erasure.erase_expired_contacts(engine, now_utc(), config.contact_days)
            click.echo(f"Erased {count} phone number(s) of cases closed, or responses quarantined, more than "
                       f"{config.contact_days} days ago; their kiosks erase theirs at the next sync.")
        elif erasure.erase_contact(engine, response_uuid, now_utc()):
            click.echo(f"Erased the phone number of response {response_uuid}; its kiosk erases its copy "
                       "at the next sync.")
        else:
            click.echo(f"Response {response_uuid} has no phone number to erase here; its kiosk is told "
                       "to erase any copy at the next sync.")
    except schema.CentralStoreError as error:
        _fail(error)


@central.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
def run(host, port):
    """Serve the ingest API, the reading API, the staff pages and /healthz."""
    try:
        limits = serving.options("CENTRAL")
    except SettingError as error:
        _fail(error)
    config, engine = _ready_engine()
    try:
        app = create_app(config, engine)
    except QuestionnaireError as error:
        _fail(error)
    threading.Thread(target=_erase_expired_contacts_hourly, args=(engine, config.contact_days),
                     daemon=True).start()
    app.config["BATCH_CHECKER"] = checking.InWorker()  # batches read and checked on another CPU
    click.echo(f"Central serving on http://{host}:{port}/ ({engine.dialect.name}).")
    # X-Forwarded-For reaches the app, which believes it only from CENTRAL_TRUSTED_PROXIES (sync.central.logins).
    try:
        serving.serve(app, host, port, "central", limits, clear_untrusted_proxy_headers=False)
    finally:
        app.config["BATCH_CHECKER"].close()


def _erase_expired_contacts_hourly(engine, days):
    """The retention rule, applied while central runs: phone numbers go `days` after their case closes."""
    log = logging.getLogger("central")
    while True:
        try:
            erased = erasure.erase_expired_contacts(engine, now_utc(), days)
            if erased:
                log.info("erased %d phone number(s) past retention", erased)
        except DBAPIError as error:  # the database is away for a moment: try again next hour
            log.warning("retention check failed: %s", error.orig)
        time.sleep(3600)


central.add_command(fleetcli.questionnaire)
central.add_command(fleetcli.kiosk_settings)
for group in (roster_cli.unit, roster_cli.counter, roster_cli.officer):
    central.add_command(group)


if __name__ == "__main__":  # pragma: no cover
    central(prog_name=os.path.basename(sys.argv[0]))
