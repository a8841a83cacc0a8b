"""What the `central` commands share: failing with one sentence, and the store, opened and up to date."""

import sys
from pathlib import Path

import click
from sqlalchemy.exc import DBAPIError

from kiosk.config import SettingError

from . import config as central_config
from .store import database, migrations

NOT_READY = "The central database is not initialised or not up to date: run `central init` first."


def fail(error):
    """Stop the command: ``Error: <error>`` on standard error, exit status 1."""
    raise click.ClickException(str(error)) from None


def engine():
    """(config, engine) from the environment; the engine is disposed of when the command ends."""
    try:
        config = central_config.load()
    except SettingError as error:
        fail(error)
    engine = database.engine_for(config.database_url)
    click.get_current_context().call_on_close(engine.dispose)
    return config, engine


def ready_engine():
    """``engine()``, failing with NOT_READY unless the store exists with every migration applied."""
    config, engine_ = engine()
    path = engine_.url.database
    if engine_.dialect.name == "sqlite" and path and not Path(path).exists():
        fail(NOT_READY)
    try:
        pending = migrations.pending_migrations(engine_)
    except DBAPIError as error:
        fail(f"Cannot open the central database ({engine_.url.render_as_string()}): {error.orig}")
    if pending:
        fail(NOT_READY)
    return config, engine_


def read_password():
    """Twice on a terminal, else one line of standard input; at least 10 characters."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < 10:
        fail("The password must have at least 10 characters; nothing was changed.")
    return password
