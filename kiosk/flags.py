"""Anti-abuse flags: suspicious responses are stored with a flag, never dropped.

- ``too_fast``: a complete response finished less than ``min_seconds`` after its
  first tap.
- ``burst``: a response whose answers are *identical* to at least ``burst_limit``
  other responses committed within the last ``burst_window`` seconds. Only
  responses alike are counted, so a burst of copies (a script, a child tapping
  the same face) is flagged from its (limit + 1)-th member on, while a different
  response right after it - a genuine complaint - is not. Responses are never
  edited, so the first ``burst_limit`` members, written before the burst was
  visible, keep their flags (a burst written at machine speed is ``too_fast`` too).
- ``repeat_dossier``: a second response for the same dossier code.
"""

from dataclasses import dataclass
from datetime import timedelta

from .chain import CANONICAL_JSON
from .clock import utc_iso


@dataclass(frozen=True)
class FlagPolicy:
    min_seconds: int = 2     # a complete response faster than this: too_fast
    burst_limit: int = 5     # more identical responses than this within burst_window: burst
    burst_window: int = 120  # seconds


def flags_for(db, policy: FlagPolicy, *, complete, now, started, dossier_code, answers=None) -> list:
    """The flags for a response about to be appended (called inside its transaction).

    ``answers`` is the response's answers dict; a response without answers is never a burst.
    """
    flags = []
    if complete and (now - started).total_seconds() < policy.min_seconds:
        flags.append("too_fast")
    if answers:
        since = utc_iso(now - timedelta(seconds=policy.burst_window))
        stored = CANONICAL_JSON.encode(answers)  # answers as the responses table holds them
        alike = db.execute(  # counts no further than the limit, along (answers, created_utc)
            "SELECT count(*) FROM (SELECT 1 FROM responses WHERE answers = ? AND created_utc >= ? LIMIT ?)",
            [stored, since, policy.burst_limit]).fetchone()[0]
        if alike >= policy.burst_limit:
            flags.append("burst")
    if dossier_code and db.execute(
            "SELECT 1 FROM responses WHERE dossier_code = ? LIMIT 1", [dossier_code]).fetchone():
        flags.append("repeat_dossier")
    return flags
