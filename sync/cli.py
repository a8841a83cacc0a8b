"""`kiosk-sync`: the kiosk's uploader's command."""

import logging
import os
import sys

import click

from kiosk import settings, store
from kiosk.settings import SettingError
from kiosk.store import StoreError

from .uploader import EXIT_FATAL, EXIT_REJECTED, Backoff, SyncError, Uploader, describe, run_forever, run_once


def _fail(error):
    raise click.ClickException(str(error)) from None


@click.command("kiosk-sync", help="Upload this kiosk's responses to central.\n\n"
               + settings.help_text(settings.SYNC) + "\n\n"
               "Exit codes: 0 delivered, none refused; 1 failed for now, nothing lost; 3 delivered but "
               "central refused some responses; 4 stopped: a person must fix a setting "
               "(unknown kiosk, wrong secret).")
@click.option("--once", is_flag=True, help="Upload everything pending, then exit (non-zero on failure "
                                           "or when central refused a response).")
@click.option("--interval", default=2.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds between looks for new responses.")
def kiosk_sync(once, interval):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s kiosk-sync %(message)s")
    try:
        found = settings.values(settings.SYNC, os.environ)
        uploader = Uploader(*sync_settings(), batch_size=found["batch_size"])
        cap = found["backoff_cap"]
        store.open_existing(uploader.db_path, uploader.kiosk_id).close()  # made by `kiosk init`, schema current
        if once:
            verdicts = run_once(uploader)
            click.echo(describe(verdicts))
            if verdicts["rejected"]:
                sys.exit(EXIT_REJECTED)
        else:
            run_forever(uploader, interval=interval, backoff=Backoff(cap=cap))
    except (SettingError, StoreError) as error:
        _fail(error)
    except SyncError as error:
        if error.fatal:
            click.echo(f"Error: Stopped: {str(error).rstrip('.')}. A person must fix this; nothing was lost, "
                       f"the responses stay pending.", err=True)
            sys.exit(EXIT_FATAL)
        _fail(f"Upload failed: {str(error).rstrip('.')}. Nothing was lost; the responses stay pending.")


def sync_settings(environ=os.environ):
    """(KIOSK_DB path, KIOSK_ID, KIOSK_SECRET, CENTRAL_URL) from `environ`; ``SettingError`` naming the first
    missing or wrong one (registry: ``kiosk.settings``)."""
    return tuple(settings.get(name).read(environ) for name in ("KIOSK_DB", "KIOSK_ID", "KIOSK_SECRET", "CENTRAL_URL"))
