"""Central's login limits (the rule is ``kiosk.limits``) and the client address behind a trusted proxy.

Three keys per attempt:

- ``pair:ADDRESS NAME``: five failures for one name from one address make that
  pair wait 15 minutes (the real user elsewhere is not affected);
- ``addr:ADDRESS``: twenty failures from one address, for any names, make the
  address wait 15 minutes (a success does not clear it);
- ``name:NAME``: ten failures for one name from anywhere, then each further
  failure doubles a wait that starts at 15 seconds and never exceeds 5 minutes:
  guessing across many addresses is slowed, the owner is never shut out for long.

A success takes its own attempt back from the address and name counts and
clears only its own pair.
"""

import ipaddress
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from werkzeug.middleware.proxy_fix import ProxyFix

from kiosk import limits
from kiosk.clock import parse_utc, utc_iso

from .store.database import write
from .store.schema import login_attempts

PAIR = limits.Rule(free=5, wait=timedelta(minutes=15))
ADDRESS = limits.Rule(free=20, wait=timedelta(minutes=15))
NAME = limits.Rule(free=10, wait=timedelta(seconds=15), grows=True, longest=timedelta(minutes=5))


def keys_for(name: str, address: str) -> dict:
    """The keys of a login attempt by `name` from client `address`, each with its rule."""
    name, address = limits.name_key(name), limits.address_key(address)
    return {f"pair:{address} {name}": PAIR, f"addr:{address}": ADDRESS, f"name:{name}": NAME}


def _count(row):
    if row is None:
        return None
    return limits.Count(row["failures"], parse_utc(row["last_failure_utc"]) if row["last_failure_utc"] else None,
                        parse_utc(row["locked_until"]) if row["locked_until"] else None)


def _values(count):
    return {"failures": count.failures, "last_failure_utc": utc_iso(count.last) if count.last else None,
            "locked_until": utc_iso(count.until) if count.until else None}


def _locked_counts(conn, keys):
    """The stored counts of these keys, their rows locked until the transaction ends."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(login_attempts)
    conn.execute(insert.on_conflict_do_nothing(), [{"key": key, "failures": 0} for key in sorted(keys)])
    rows = conn.execute(select(login_attempts).where(login_attempts.c.key.in_(keys))
                        .order_by(login_attempts.c.key).with_for_update()).mappings()
    return {row["key"]: _count(row) for row in rows}


def _forget_stale(conn, now):
    """Drop counts nobody needs any more (rows other logins hold are left for later)."""
    stale = (select(login_attempts.c.key)
             .where(login_attempts.c.last_failure_utc.is_(None)
                    | (login_attempts.c.last_failure_utc < utc_iso(now - limits.WINDOW)),
                    (login_attempts.c.locked_until.is_(None)) | (login_attempts.c.locked_until < utc_iso(now)))
             .limit(1000).with_for_update(skip_locked=True))
    conn.execute(delete(login_attempts).where(login_attempts.c.key.in_(stale.scalar_subquery())))


def reserve(engine, keys: dict, now):
    """Count this attempt as a failure on every key, unless one is waiting.

    `keys` comes from ``keys_for``; `now` is an aware UTC datetime. Returns the
    end of the longest wait (an aware datetime) when the attempt is refused
    (then nothing is counted and the password must not be checked), else None.
    Check and count are one transaction (rows locked on PostgreSQL, ``BEGIN
    IMMEDIATE`` on SQLite), so concurrent attempts cannot exceed the limits.
    """
    with write(engine) as conn:
        _forget_stale(conn, now)
        waiting, counted = limits.reserve(_locked_counts(conn, keys), keys, now)
        if counted:
            for key, count in counted.items():
                conn.execute(login_attempts.update().where(login_attempts.c.key == key).values(**_values(count)))
        else:  # refused: leave no empty rows behind
            conn.execute(login_attempts.delete().where(login_attempts.c.key.in_(keys),
                                                       login_attempts.c.failures == 0,
                                                       login_attempts.c.locked_until.is_(None)))
    return waiting


def succeeded(engine, keys: dict, attempted_at) -> None:
    """The attempt reserved at `attempted_at` had the right password: clear its own pair and take it
    back from the others (see ``kiosk.limits.taken_back``)."""
    with write(engine) as conn:
        counts = _locked_counts(conn, keys)
        for key, rule in keys.items():
            if key.startswith("pair:"):
                conn.execute(login_attempts.delete().where(login_attempts.c.key == key))
            elif counts.get(key):
                conn.execute(login_attempts.update().where(login_attempts.c.key == key)
                             .values(**_values(limits.taken_back(counts[key], rule, attempted_at))))


class TrustedProxies:
    """WSGI middleware: the client address from ``X-Forwarded-For``, only on requests from a trusted proxy.

    A request whose peer (``REMOTE_ADDR``) is in `networks` goes through
    werkzeug's ``ProxyFix`` with one hop (the proxy's own appended entry
    names the client); any other request keeps its peer address, so a client
    cannot choose its own address by sending the header.
    """

    def __init__(self, app, networks):
        self.app, self.networks = app, tuple(networks)
        self.fixed = ProxyFix(app, x_for=1, x_proto=0, x_host=0, x_port=0, x_prefix=0)

    def __call__(self, environ, start_response):
        try:
            peer = ipaddress.ip_address(environ.get("REMOTE_ADDR", ""))
        except ValueError:
            peer = None
        if peer is not None and any(peer in network for network in self.networks):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
