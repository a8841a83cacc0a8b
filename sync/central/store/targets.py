"""Each unit's target share of citizens satisfied overall, set by an admin (page or `central set-target`)."""

from sqlalchemy import select

from kiosk.clock import utc_iso
from kiosk.text import nfc

from .database import write
from .schema import CentralStoreError, unit_targets


def targets(engine) -> dict:
    """{unit: target percent (int 1..100)} for the units given a target; others use CENTRAL_TARGET_PCT."""
    with engine.connect() as conn:
        return dict(conn.execute(select(unit_targets.c.unit, unit_targets.c.target_pct)).all())


def target_for(engine, unit, default: int) -> int:
    """A unit's target percent; `default` for a unit without one and for every unit together (unit None)."""
    return targets(engine).get(nfc(unit), default) if unit else default


def set_target(engine, unit: str, pct: int, by: str, now) -> None:
    """Give `unit` (NFC) a target of `pct` percent satisfied overall; CentralStoreError unless 1 <= pct <= 100."""
    unit = nfc(unit)
    if not (isinstance(pct, int) and 1 <= pct <= 100):
        raise CentralStoreError("The target must be a whole percentage from 1 to 100.")
    with write(engine) as conn:
        values = {"target_pct": pct, "set_by": by, "set_utc": utc_iso(now)}
        if conn.execute(unit_targets.update().where(unit_targets.c.unit == unit).values(**values)).rowcount == 0:
            conn.execute(unit_targets.insert().values(unit=unit, **values))
