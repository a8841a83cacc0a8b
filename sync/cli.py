"""`kiosk-sync`: the kiosk's uploader's command."""

import logging
import os
import re
import sys

import click

from kiosk import config as kiosk_config
from kiosk import store
from kiosk.config import IntSetting, SettingError, int_setting
from kiosk.store import StoreError

from .uploader import EXIT_FATAL, EXIT_REJECTED, Backoff, SyncError, Uploader, describe, run_forever, run_once


def _fail(error):
    raise click.ClickException(str(error)) from None


SYNC_TUNABLES = (
    IntSetting("KIOSK_SYNC_BATCH", 1000, 1, 100_000, "responses per batch, at most central's CENTRAL_MAX_BATCH"),
    IntSetting("KIOSK_SYNC_BACKOFF_CAP", 300, 1, 3600, "longest wait between retries, in seconds"),
)


@click.command("kiosk-sync", help="Upload this kiosk's responses to central.\n\n"
               "Settings (environment variables):\n\n\b\n"
               "  KIOSK_DB             the kiosk's SQLite file (required)\n"
               "  KIOSK_ID             this kiosk's id (required)\n"
               "  KIOSK_SECRET         the secret `central add-kiosk` printed (required)\n"
               "  CENTRAL_URL          central's address, e.g. http://10.0.0.5:8000 (required)\n"
               "  KIOSK_SYNC_BATCH     responses per batch, at most central's CENTRAL_MAX_BATCH (default 1000)\n"
               "  KIOSK_SYNC_BACKOFF_CAP  longest wait between retries, in seconds (default 300)\n\n"
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
        uploader = Uploader(*sync_settings(), batch_size=int_setting(os.environ, SYNC_TUNABLES[0]))
        cap = int_setting(os.environ, SYNC_TUNABLES[1])
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
    db_path = kiosk_config.db_path_from(environ)
    kiosk_id = kiosk_config.kiosk_id_from(environ)
    secret = environ.get("KIOSK_SECRET", "").strip()
    if not re.fullmatch(r"[0-9a-f]{64}", secret):
        raise SettingError("KIOSK_SECRET must be the 64-hex-digit secret that `central add-kiosk` printed.")
    url = environ.get("CENTRAL_URL", "").strip()
    if not re.match(r"^https?://[^/\s]+", url):
        raise SettingError("CENTRAL_URL must be central's address, e.g. CENTRAL_URL=http://10.0.0.5:8000.")
    return db_path, kiosk_id, secret, url
