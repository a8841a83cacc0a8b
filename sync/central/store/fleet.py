"""Central's store of the kiosk fleet (issue 13): published questionnaires, central's overrides of kiosk
settings, and each kiosk's latest health report (tables of step 0015).

Reads take a connection or an engine (SQLAlchemy's ``connect`` works on both through ``_conn``); writes are
one transaction each (``database.write``).
"""

from contextlib import contextmanager

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from kiosk.clock import utc_iso

from . import schema
from .database import write

#: The columns of a health report a kiosk sends (sync.central.kioskconfig checks them), as stored.
HEALTH_FIELDS = ("install_id", "software_version", "questionnaire_version", "config_version", "pending",
                 "oldest_pending_age_s", "clock_utc", "clock_offset_s", "free_disk_bytes", "last_error",
                 "last_error_utc")


@contextmanager
def _conn(bind):
    """A connection from an engine (closed after), or the connection itself."""
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            yield conn
    else:
        yield bind


# --- questionnaires ------------------------------------------------------------------------------------------


def publish_questionnaire(engine, version: str, unit, source: str, sha256: str, by: str, now) -> int:
    """Store a checked questionnaire (``source``: its TOML text) for ``unit`` (None: every unit); every
    version is kept. Returns its id. The caller checks it first (``kiosk.questionnaire.parse``)."""
    with write(engine) as conn:
        return conn.execute(schema.questionnaires.insert().values(
            version=version, unit=unit, source=source, sha256=sha256, published_utc=utc_iso(now),
            published_by=by).returning(schema.questionnaires.c.id)).scalar_one()


def newest_questionnaire(bind, unit: str):
    """The questionnaire a kiosk of ``unit`` uses: the newest published for that unit, else the newest for
    every unit; a dict ``{id, version, unit, source, sha256, published_utc, published_by}`` or None."""
    q = schema.questionnaires
    with _conn(bind) as conn:
        for where in (q.c.unit == unit, q.c.unit.is_(None)):
            row = conn.execute(select(q).where(where).order_by(q.c.id.desc()).limit(1)).mappings().first()
            if row is not None:
                return dict(row)
    return None


def questionnaire_list(engine) -> list:
    """Every published version, newest first, as dicts ``{id, version, unit, sha256, published_utc,
    published_by, kiosks}``; ``kiosks`` lists the kiosks whose latest health report says they run that
    version (sorted ids)."""
    q, health = schema.questionnaires, schema.kiosk_health
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(
            select(q.c.id, q.c.version, q.c.unit, q.c.sha256, q.c.published_utc, q.c.published_by)
            .order_by(q.c.id.desc())).mappings()]
        running = conn.execute(select(health.c.kiosk_id, health.c.questionnaire_version, schema.kiosks.c.unit)
                               .join(schema.kiosks, schema.kiosks.c.kiosk_id == health.c.kiosk_id)).all()
    for row in rows:
        row["kiosks"] = sorted(kiosk for kiosk, version, unit in running
                               if version == row["version"] and row["unit"] in (None, unit))
    return rows


# --- setting overrides ---------------------------------------------------------------------------------------


def set_override(engine, name: str, unit, value: str, by: str, now) -> None:
    """Central's value (text, already checked by the setting's kind) of kiosk setting ``name`` for ``unit``
    (None: every unit), replacing any before."""
    table, unit = schema.kiosk_setting_overrides, unit or ""
    with write(engine) as conn:
        conn.execute(table.delete().where(table.c.name == name, table.c.unit == unit))
        conn.execute(table.insert().values(name=name, unit=unit, value=value, set_by=by, set_utc=utc_iso(now)))


def unset_override(engine, name: str, unit) -> bool:
    """Remove central's value of ``name`` for ``unit`` (None: every unit); False if there was none."""
    table = schema.kiosk_setting_overrides
    with write(engine) as conn:
        return conn.execute(table.delete().where(table.c.name == name, table.c.unit == (unit or ""))).rowcount > 0


def overrides_for(bind, unit: str) -> dict:
    """``{name: value text}`` a kiosk of ``unit`` gets: every-unit overrides, a unit's own beating them."""
    table = schema.kiosk_setting_overrides
    with _conn(bind) as conn:
        rows = conn.execute(select(table.c.name, table.c.unit, table.c.value)
                            .where(table.c.unit.in_(["", unit]))).all()
    result = {name: value for name, row_unit, value in rows if row_unit == ""}
    result.update({name: value for name, row_unit, value in rows if row_unit == unit})
    return result


def override_list(engine) -> list:
    """Every override as dicts ``{name, unit ('' = every unit), value, set_by, set_utc}``, by name and unit."""
    table = schema.kiosk_setting_overrides
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table).order_by(table.c.name, table.c.unit)).mappings()]


# --- health --------------------------------------------------------------------------------------------------


def save_health(engine, kiosk_id: str, report: dict, received) -> None:
    """Keep ``report`` (``HEALTH_FIELDS`` to values, missing ones stored as null) as the kiosk's latest,
    received at ``received`` (central's clock, UTC datetime), replacing the one before."""
    table = schema.kiosk_health
    row = {field: report.get(field) for field in HEALTH_FIELDS}
    with write(engine) as conn:
        conn.execute(table.delete().where(table.c.kiosk_id == kiosk_id))
        conn.execute(table.insert().values(kiosk_id=kiosk_id, received_utc=utc_iso(received), **row))


def get_health(engine, kiosk_id: str):
    """The kiosk's latest health report as a dict (``kiosk_id``, ``received_utc`` and ``HEALTH_FIELDS``) or None."""
    table = schema.kiosk_health
    with engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.kiosk_id == kiosk_id)).mappings().first()
    return dict(row) if row else None


def fleet_rows(engine, unit=None) -> list:
    """Every kiosk (of ``unit``, or all) with its latest health report: dicts ``{kiosk_id, unit,
    last_batch_utc, received_utc, ...HEALTH_FIELDS}`` (health fields null for a kiosk that never reported),
    by kiosk id. One query."""
    kiosks, health = schema.kiosks, schema.kiosk_health
    columns = [kiosks.c.kiosk_id, kiosks.c.unit, kiosks.c.last_batch_utc, health.c.received_utc,
               *(health.c[field] for field in HEALTH_FIELDS)]
    query = select(*columns).select_from(kiosks.outerjoin(health, health.c.kiosk_id == kiosks.c.kiosk_id))
    if unit is not None:
        query = query.where(kiosks.c.unit == unit)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query.order_by(kiosks.c.kiosk_id)).mappings()]


def newest_versions(engine) -> dict:
    """``{unit or None: version}``: the newest questionnaire version published per unit (None: every unit)."""
    q = schema.questionnaires
    newest = select(q.c.unit, func.max(q.c.id).label("id")).group_by(q.c.unit).subquery()
    with engine.connect() as conn:
        return dict(conn.execute(select(q.c.unit, q.c.version).join(newest, newest.c.id == q.c.id)).all())
