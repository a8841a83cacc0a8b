"""`kiosk`: set up, run and check the counter kiosk."""

import logging
import sqlite3
import sys
import threading
import time
from pathlib import Path

import click

from . import config as kiosk_config
from . import erasure, serving, store
from .clock import now_utc
from .questionnaire import QuestionnaireError

ERRORS = (kiosk_config.SettingError, QuestionnaireError, store.StoreError)


def _fail(error: Exception):
    raise click.ClickException(str(error)) from None


@click.group(help="The satisfaction kiosk for a one-stop-shop counter.\n\n" + kiosk_config.SETTINGS_HELP)
@click.version_option(package_name="sipas-kiosk")
def cli():
    pass


@cli.command()
def init():
    """Create the local database (KIOSK_DB) for this kiosk (KIOSK_ID).

    Safe to run again: it upgrades the schema and never drops anything. Each
    database gets a store (install) id sent with every batch; a database copied
    or moved to another machine or path gets a new one continuing its chain.
    """
    try:
        path, kiosk_id = kiosk_config.db_path_from(), kiosk_config.kiosk_id_from()
        created = store.init(path, kiosk_id)
    except ERRORS as error:
        _fail(error)
    verb = "Created" if created else "Checked"
    click.echo(f"{verb} the database {path} for kiosk {kiosk_id}.")
    db = store.connect(path)
    try:
        install = store.installs(db)[-1]
    finally:
        db.close()
    copied = f", a copy of store {install['parent'] or 'legacy'}" if install["parent"] is not None else ""
    click.echo(f"Store id {install['id'] or 'legacy (made before store ids)'}, from response "
               f"#{install['from_seq']}{copied}.")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
def run(host, port):
    """Serve the survey to the counter tablet's browser."""
    from .app import create_app

    try:
        limits = serving.options("KIOSK")
        app = create_app()
    except ERRORS as error:
        _fail(error)
    cfg = app.config["KIOSK"]
    threading.Thread(target=_erase_expired_contacts_hourly, args=(cfg.db_path, cfg.contact_days),
                     daemon=True).start()
    click.echo(f"Kiosk {cfg.kiosk_id} serving on http://{host}:{port}/ (database {cfg.db_path}).")
    serving.serve(app, host, port, "kiosk", limits)


def _erase_expired_contacts_hourly(db_path, days):
    """The retention rule, applied while the kiosk runs: phone numbers go `days` after they were given."""
    log = logging.getLogger("kiosk")
    while True:
        try:
            with store.connect(db_path) as db:
                erased = erasure.erase_expired_contacts(db, now_utc(), days)
            if erased:
                log.info("erased %d phone number(s) past retention", erased)
        except sqlite3.Error as error:  # busy for a moment: try again next hour
            log.warning("retention check failed: %s", error)
        time.sleep(3600)


@cli.command("erase-contact")
@click.argument("response_uuid", required=False)
@click.option("--expired", is_flag=True, help="Erase every phone number given more than KIOSK_CONTACT_DAYS "
                                              "days ago (`kiosk run` does this hourly).")
def erase_contact(response_uuid, expired):
    """Erase a citizen's phone number on this kiosk at once, or those past retention.

    Figures and the hash chain are unchanged: the chain holds only a salted hash.
    Central erases its own copy with `central erase-contact`, and tells the kiosk.
    """
    if bool(response_uuid) == expired:
        raise click.ClickException("Give either a response UUID or --expired.")
    try:
        cfg = kiosk_config.load()
        db = store.open_existing(cfg.db_path, cfg.kiosk_id)
    except ERRORS as error:
        _fail(error)
    with db:
        if expired:
            count = erasure.erase_expired_contacts(db, now_utc(), cfg.contact_days)
            click.echo(f"Erased {count} phone number(s) given more than {cfg.contact_days} days ago.")
            return
        done = erasure.erase_contact(db, response_uuid.strip().lower(), now_utc())
    if done is None:
        raise click.ClickException(f"No response {response_uuid!r} is stored on this kiosk.")
    click.echo(f"Erased the phone number of response {response_uuid}." if done
               else f"Response {response_uuid} has no phone number to erase.")


@cli.command()
def verify():
    """Check the sequence and hash chain of every stored response.

    Exits 1 naming the first broken link. Responses kept with a mark (e.g.
    clock_back: committed while the clock was behind the previous response's)
    are listed as warnings; they do not break the chain.
    """
    from .backup import BackupError, check

    try:
        path, kiosk_id = kiosk_config.db_path_from(), kiosk_config.kiosk_id_from()
        # A look only: checking a copied or restored file does not make it a store of its own.
        db = store.open_existing(path, kiosk_id, claim=False)
        with db:
            result = check(db, kiosk_id, "KIOSK_DB")
    except (*ERRORS, BackupError) as error:
        _fail(error)
    _say_checked(result)


def _say_checked(result: dict, what: str = "") -> None:
    """`kiosk verify`'s words for ``kiosk.backup.check``'s result; exits 1 naming a broken link."""
    for note in result["marks"]:
        click.echo(f"Warning: response #{note['seq']} is marked {note['mark']}: {note['detail']}.", err=True)
    if result["problem"]:
        raise click.ClickException(f"{result['problem']} ({result['checked']} responses before it are intact.)")
    marked = f"; {len(result['marks'])} marked (see the warnings above)" if result["marks"] else ""
    click.echo(f"OK{what}: {result['checked']} responses, sequence and hash chain intact{marked}.")


@cli.command()
@click.argument("dest", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--force", is_flag=True, help="Replace DEST if it exists.")
def backup(dest, force):
    """Copy the kiosk's database to the file DEST while the kiosk runs, then check the copy.

    Uses SQLite's online backup, so the copy is consistent and complete; it is
    checked as `kiosk verify` checks (a copy that does not verify is not kept).
    DEST is never overwritten unless --force. The copy holds phone numbers:
    keep it as private as the kiosk (it is made owner-only).
    """
    from .backup import BackupError
    from .backup import backup as make_backup

    try:
        result = make_backup(kiosk_config.db_path_from(), kiosk_config.kiosk_id_from(), dest, force)
    except (*ERRORS, BackupError) as error:
        _fail(error)
    click.echo(f"Backed up responses #1–#{result['head']} to {dest}.")
    _say_checked(result, " (the copy)")


@cli.command()
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing KIOSK_DB (it is kept beside, renamed).")
def restore(backup_file, force):
    """Put a backup made by `kiosk backup` in place as KIOSK_DB. Stop `kiosk run` and `kiosk-sync` first.

    The backup must verify. The kiosk carries on from the backup's last response
    as a new store of the same kiosk (central keeps both stores' responses and
    notes the restore); phone numbers past retention are erased again.
    """
    from .backup import BackupError
    from .backup import restore as put_back

    try:
        cfg = kiosk_config.load()
        result = put_back(backup_file, cfg.db_path, cfg.kiosk_id, force)
        with store.open_existing(cfg.db_path, cfg.kiosk_id) as db:
            erased = erasure.erase_expired_contacts(db, now_utc(), cfg.contact_days)
    except (*ERRORS, BackupError) as error:
        _fail(error)
    if result["kept"]:
        click.echo(f"The database that was there is kept as {result['kept']}.")
    click.echo(f"Restored responses #1–#{result['head']} from {backup_file} into {cfg.db_path}.")
    _say_checked(result, " (the backup)")
    click.echo(f"The next response is #{result['install']['from_seq']}, in store {result['install']['id']} "
               f"(continuing store {result['install']['parent'] or 'legacy'}). Erased {erased} phone number(s) "
               f"past retention. Start `kiosk run` and `kiosk-sync` again.")


@cli.command("set-pin")
def set_pin():
    """Set the staff-mode PIN (4 to 8 digits).

    Asks twice on a terminal; otherwise reads one line from standard input.
    """
    from .staff import set_pin as store_pin

    try:
        db = store.open_existing(kiosk_config.db_path_from(), kiosk_config.kiosk_id_from())
    except ERRORS as error:
        _fail(error)
    if sys.stdin.isatty():
        pin = click.prompt("New PIN", hide_input=True, confirmation_prompt=True)
    else:
        pin = sys.stdin.readline().strip()
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8):
        raise click.ClickException("The PIN must be 4 to 8 digits; nothing was changed.")
    with db:
        store_pin(db, pin)
    click.echo("The staff PIN is set.")
