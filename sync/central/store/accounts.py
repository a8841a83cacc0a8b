"""Kiosks, API tokens, staff accounts and central's settings."""

import hashlib
import secrets

from sqlalchemy import select

from kiosk.clock import now_utc, utc_iso
from kiosk.passwords import hash_secret
from kiosk.text import nfc

from .database import write
from .schema import ROLES, CentralStoreError, api_tokens, kiosks, officers, settings, users


def add_kiosk(engine, kiosk_id: str, unit: str) -> str:
    """Register a kiosk; returns its new secret (shown once). The unit is stored in NFC."""
    secret, unit = secrets.token_hex(32), nfc(unit)
    with write(engine) as conn:
        if conn.execute(select(kiosks.c.kiosk_id).where(kiosks.c.kiosk_id == kiosk_id)).first():
            raise CentralStoreError(f"Kiosk {kiosk_id!r} is already registered.")
        conn.execute(kiosks.insert().values(kiosk_id=kiosk_id, unit=unit, secret=secret,
                                            created_utc=utc_iso(now_utc())))
    return secret


def get_kiosk(conn, kiosk_id: str):
    return conn.execute(select(kiosks).where(kiosks.c.kiosk_id == kiosk_id)).mappings().first()


def token_digest(token: str) -> str:
    """Tokens are stored as their SHA-256: a leaked database does not leak usable tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


def add_token(engine, name: str) -> str:
    token, name = secrets.token_urlsafe(32), nfc(name)
    with write(engine) as conn:
        if conn.execute(select(api_tokens.c.id).where(api_tokens.c.name == name)).first():
            raise CentralStoreError(f"A token named {name!r} already exists.")
        conn.execute(api_tokens.insert().values(name=name, token_hash=token_digest(token),
                                                created_utc=utc_iso(now_utc())))
    return token


def token_known(engine, token: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(api_tokens.c.id).where(
            api_tokens.c.token_hash == token_digest(token))).first() is not None


def get_setting(engine, key: str):
    with engine.connect() as conn:
        return conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar()


def add_user(engine, name, role, unit, password, display_name=None, email=None, officer_id=None) -> None:
    """Create a staff account; names, unit and display name are stored in NFC. `email` (optional) is where
    alerts reach a supervisor (see sync.central.alerts). An officer login is linked to its roster entry
    `officer_id` (required for role officer): its unit is the officer's (`unit`, if given, must be that one)
    and its display name defaults to the officer's.

    Raises CentralStoreError for an unknown role, a missing unit, a taken name, or a missing, unknown,
    retired or other unit's officer.
    """
    name, unit, display_name = nfc(name), nfc(unit), nfc(display_name)
    if role not in ROLES:
        raise CentralStoreError(f"--role must be one of {', '.join(ROLES)}, not {role!r}.")
    if role == "officer" and not officer_id:
        raise CentralStoreError("An officer login is linked to its roster entry: give --officer ID "
                                "(see `central officer list`).")
    if role != "officer" and officer_id:
        raise CentralStoreError("--officer is for role officer only.")
    with write(engine) as conn:
        if role == "officer":
            officer = _linkable_officer(conn, officer_id, unit)
            unit, display_name = officer["unit"], display_name or officer["display_name"]
        if role != "admin" and not unit:
            raise CentralStoreError(f"A user with role {role} belongs to a unit: give --unit.")
        if conn.execute(select(users.c.id).where(users.c.name == name)).first():
            raise CentralStoreError(f"A user named {name!r} already exists.")
        conn.execute(users.insert().values(
            name=name, display_name=display_name or name, role=role, unit=unit if role != "admin" else None,
            password_hash=hash_secret(password), created_utc=utc_iso(now_utc()), email=email or None,
            officer_id=officer_id if role == "officer" else None))


def link_user(engine, name: str, officer_id: str) -> None:
    """Link officer login `name` to roster entry `officer_id` (of the login's unit, active); every session of
    the login ends, so its next pages are scoped by the new id. Raises CentralStoreError otherwise."""
    with write(engine) as conn:
        user = conn.execute(select(users).where(users.c.name == nfc(name))).mappings().first()
        if user is None:
            raise CentralStoreError(f"No user named {nfc(name)!r}.")
        if user["role"] != "officer":
            raise CentralStoreError(f"{user['name']!r} is a {user['role']} login: only officer logins are linked.")
        _linkable_officer(conn, officer_id, user["unit"])
        conn.execute(users.update().where(users.c.id == user["id"])
                     .values(officer_id=officer_id, session_version=users.c.session_version + 1))


def _linkable_officer(conn, officer_id, unit):
    officer = conn.execute(select(officers).where(officers.c.id == officer_id)).mappings().first()
    if officer is None:
        raise CentralStoreError(f"No officer {officer_id!r} in the roster (see `central officer list`).")
    if not officer["active"]:
        raise CentralStoreError(f"Officer {officer_id!r} is retired.")
    if unit and officer["unit"] != unit:
        raise CentralStoreError(f"Officer {officer_id!r} belongs to {officer['unit']!r}, not {unit!r}.")
    return officer


def get_user(engine, user_id=None, name=None):
    column, value = (users.c.id, user_id) if user_id is not None else (users.c.name, nfc(name))
    with engine.connect() as conn:
        return conn.execute(select(users).where(column == value)).mappings().first()


def set_password(engine, name: str, password: str) -> None:
    """Give a user a new password; every session they have ends. Raises CentralStoreError if unknown."""
    _change_user(engine, name, password_hash=hash_secret(password))


def set_disabled(engine, name: str, disabled: bool, now) -> None:
    """Disable a user (no login, every session ends) or enable them again. Raises CentralStoreError if unknown."""
    _change_user(engine, name, disabled_utc=utc_iso(now) if disabled else None)


def end_sessions(engine, user_id: int) -> None:
    """End every session of a user (logout): the session version in their cookies no longer matches."""
    with write(engine) as conn:
        conn.execute(users.update().where(users.c.id == user_id)
                     .values(session_version=users.c.session_version + 1))


def _change_user(engine, name, **values):
    with write(engine) as conn:
        done = conn.execute(users.update().where(users.c.name == name)
                            .values(session_version=users.c.session_version + 1, **values))
        if done.rowcount != 1:
            raise CentralStoreError(f"No user named {name!r}.")


def unit_users(engine, unit=None) -> list:
    """Active staff of `unit` (every unit's when None) as mappings with name, display_name, role and officer_id
    (an officer login's roster id), by display name."""
    query = (select(users.c.name, users.c.display_name, users.c.role, users.c.officer_id)
             .where(users.c.disabled_utc.is_(None)))
    if unit is not None:
        query = query.where(users.c.unit == nfc(unit))
    with engine.connect() as conn:
        return conn.execute(query.order_by(users.c.display_name, users.c.name)).mappings().all()


def display_names(engine, names) -> dict:
    """{login name: display name} for the given login names (unknown names are left out)."""
    names = {n for n in names if n}
    if not names:
        return {}
    with engine.connect() as conn:
        return dict(conn.execute(select(users.c.name, users.c.display_name).where(users.c.name.in_(names))).all())
