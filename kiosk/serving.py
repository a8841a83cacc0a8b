"""Serving either app (kiosk or central) with waitress, its connection limits set in one place.

waitress answers every open connection from one event loop and hands only
complete requests to its worker threads, so idle or slow connections cost a
file descriptor, not a thread. Its defaults (100 connections, 120 s before an
idle connection is closed) let 100 idle connections stop a server, so both
apps raise the limit and close idle connections sooner:

- ``<APP>_CONNECTION_LIMIT`` (default 500): open connections accepted at once;
  keep it well under the process's open-file limit (``ulimit -n``, often 1024).
- ``<APP>_CHANNEL_TIMEOUT`` (default 30): seconds a connection may stay silent
  before it is closed.

``<APP>`` is ``CENTRAL`` or ``KIOSK``.
"""

import os

from . import settings

THREADS = 8
#: The collector runs after this many new container objects (Python's default: 700), and its older generations
#: after 20 of the younger one's runs (default 10): a batch of 5,000 responses makes a few hundred thousand
#: objects, nearly none of them in reference cycles, so the default walked them again and again (6% of
#: central's time on a batch). The memory a cycle holds is still freed, a little later.
GC_THRESHOLDS = (50_000, 20, 20)


def tunables(prefix: str) -> tuple:
    """The serving settings (registered in ``kiosk.settings``) of the app whose variables start with `prefix`
    (CENTRAL or KIOSK)."""
    return settings.get(f"{prefix}_CONNECTION_LIMIT"), settings.get(f"{prefix}_CHANNEL_TIMEOUT")


def options(prefix: str, environ=os.environ) -> dict:
    """waitress's connection options from the environment.

    Raises ``SettingError`` naming the variable when a value is not a whole number in range.
    """
    limit, timeout = (setting.read(environ) for setting in tunables(prefix))
    return {"threads": THREADS, "connection_limit": limit, "channel_timeout": timeout,
            "cleanup_interval": min(10, timeout)}


def serve(app, host: str, port: int, ident: str, limits: dict, **extra) -> None:
    """Serve `app` until the process stops, with `limits` from ``options`` (read them before building
    the app, so a wrong setting stops the program at once); `extra` goes to waitress as is."""
    import gc

    from waitress import serve as waitress_serve

    # Objects alive at start (modules, the app, its templates, the questionnaire) are never garbage: moved out of
    # the collector's sight, a full collection no longer walks them in the middle of a request (the trends page
    # at 10 million responses: slowest of 30 requests 177-216 ms before, 106-108 ms after).
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    waitress_serve(app, host=host, port=port, ident=ident, **limits, **extra)
