"""Login limits: how failed password or PIN checks are counted per key, and when a key must wait.

Both apps use this one rule; each keeps the counts in its own store (central:
``sync.central.logins``, kiosk: ``kiosk.staff``). A check is *reserved* before the
password is verified: in one transaction every key of the attempt is read,
refused if a key is waiting, else counted as a failure. So however many
attempts arrive at once, no more checks run than the limits allow, and a check
still in flight can never wipe a lock. A success then takes its own count back
(``taken_back``); it never clears another key.

Two kinds of key:

- fixed (``grows=False``): ``free`` failures, then the key waits ``wait``; when
  the wait is over the count starts again from zero;
- growing (``grows=True``): ``free`` failures, then each further failure makes
  the key wait ``wait``, doubled for each failure past ``free`` (up to
  ``longest``). It slows guessing without ever shutting the door for long.

Failures are forgotten ``WINDOW`` after the last one.
"""

import ipaddress
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

#: A key's failures are forgotten this long after its last failure.
WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Rule:
    """How many failures a key may have, and how long it then waits."""

    free: int  # failures before the key must wait
    wait: timedelta  # the (first) wait
    grows: bool = False  # each failure past `free` doubles the wait
    longest: timedelta = timedelta(minutes=5)  # the longest wait of a growing key


@dataclass(frozen=True)
class Count:
    """One key's state: failures counted, the last one's time, and the end of its wait (UTC datetimes)."""

    failures: int = 0
    last: datetime | None = None
    until: datetime | None = None


def current(count: Count, rule: Rule, now: datetime) -> Count:
    """The count as it stands at `now`: forgotten after ``WINDOW``, restarted after a fixed wait."""
    if count.until and count.until <= now and not rule.grows:
        return Count()
    if count.last and count.last + WINDOW <= now and not (count.until and count.until > now):
        return Count()
    return count


def wait_after(rule: Rule, failures: int) -> timedelta | None:
    """How long a key with this many failures waits; None if it need not wait."""
    if failures < rule.free:
        return None
    if not rule.grows:
        return rule.wait
    return min(rule.wait * 2 ** min(failures - rule.free, 30), rule.longest)


def reserve(counts: dict, rules: dict, now: datetime):
    """Reserve one check for the keys of an attempt.

    `counts` maps each key to its stored ``Count`` (or None), `rules` each key
    to its ``Rule``. Returns ``(waiting_until, new_counts)``: when a key is
    waiting, its end (a datetime) and None (nothing to write, no check may
    run); otherwise None and the counts to store, each with this attempt
    counted as a failure.
    """
    fresh = {key: current(counts.get(key) or Count(), rules[key], now) for key in rules}
    waits = [c.until for c in fresh.values() if c.until and c.until > now]
    if waits:
        return max(waits), None
    counted = {}
    for key, count in fresh.items():
        failures = count.failures + 1
        wait = wait_after(rules[key], failures)
        counted[key] = Count(failures, now, now + wait if wait else None)
    return None, counted


def taken_back(count: Count, rule: Rule, attempted_at: datetime) -> Count:
    """A check reserved at `attempted_at` turned out right: it is not a failure after all.

    The wait it set is lifted: a reservation is refused while a wait runs, so a
    wait on the key was set by this attempt, unless a failure was counted after
    it (then that failure's wait stays). A wait also goes when the count falls
    below the rule's limit again. So the right password never makes the next
    login, from this or another device, wait.
    """
    failures = max(count.failures - 1, 0)
    own = count.last is not None and _same_moment(count.last, attempted_at)
    return replace(count, failures=failures, until=None if own or failures < rule.free else count.until)


def _same_moment(a: datetime, b: datetime) -> bool:
    """Equal to the millisecond (what the stores keep)."""
    return abs(a - b) < timedelta(milliseconds=1)


def address_key(address: str | None) -> str:
    """A client address as a key: canonical text; IPv6 by its /64 (one subscriber's block)."""
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return (address or "unknown")[:45]
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def name_key(name: str) -> str:
    """A login name as typed, in NFC, at most 64 characters."""
    return unicodedata.normalize("NFC", name or "")[:64]
