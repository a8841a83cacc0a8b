"""Anti-abuse flags: suspicious responses are stored with a flag, never dropped."""

from dataclasses import dataclass
from datetime import timedelta

from .clock import utc_iso


@dataclass(frozen=True)
class FlagPolicy:
    min_seconds: int = 2     # a complete response faster than this: too_fast
    burst_limit: int = 5     # more responses than this within burst_window: burst
    burst_window: int = 120  # seconds


def flags_for(db, policy: FlagPolicy, *, complete, now, started, dossier_code) -> list:
    """The flags for a response about to be appended (called inside its transaction)."""
    flags = []
    if complete and (now - started).total_seconds() < policy.min_seconds:
        flags.append("too_fast")
    since = utc_iso(now - timedelta(seconds=policy.burst_window))
    recent = db.execute("SELECT count(*) FROM responses WHERE created_utc >= ?", [since]).fetchone()[0]
    if recent >= policy.burst_limit:
        flags.append("burst")
    if dossier_code and db.execute(
            "SELECT 1 FROM responses WHERE dossier_code = ? LIMIT 1", [dossier_code]).fetchone():
        flags.append("repeat_dossier")
    return flags
