"""The login-limit rule both apps use (kiosk/limits.py): counting, waits, what a success takes back."""

from datetime import datetime, timedelta, timezone

import pytest

from kiosk import limits

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
FIXED = limits.Rule(free=5, wait=timedelta(minutes=15))
GROWING = limits.Rule(free=10, wait=timedelta(seconds=15), grows=True, longest=timedelta(minutes=5))


def fail(count, rule, now, times=1):
    for _ in range(times):
        waiting, counted = limits.reserve({"k": count}, {"k": rule}, now)
        assert waiting is None
        count = counted["k"]
    return count


def test_a_fixed_key_waits_after_its_fifth_failure_then_starts_again():
    count = fail(None, FIXED, NOW, times=4)
    assert count.failures == 4 and count.until is None
    count = fail(count, FIXED, NOW, times=1)
    assert count.until == NOW + timedelta(minutes=15)
    waiting, counted = limits.reserve({"k": count}, {"k": FIXED}, NOW + timedelta(minutes=14))
    assert waiting == NOW + timedelta(minutes=15) and counted is None  # refused: nothing counted
    after = NOW + timedelta(minutes=15)
    assert fail(count, FIXED, after) == limits.Count(1, after, None)


@pytest.mark.parametrize("failures, wait", [(9, None), (10, 15), (11, 30), (12, 60), (13, 120), (14, 240),
                                            (15, 300), (40, 300)])
def test_a_growing_key_doubles_its_wait_up_to_the_longest(failures, wait):
    assert limits.wait_after(GROWING, failures) == (timedelta(seconds=wait) if wait else None)


def test_a_growing_key_keeps_counting_after_a_wait_and_forgets_after_the_window():
    count = fail(None, GROWING, NOW, times=10)
    assert count.until == NOW + timedelta(seconds=15)
    later = NOW + timedelta(seconds=16)
    count = fail(count, GROWING, later)
    assert (count.failures, count.until) == (11, later + timedelta(seconds=30))
    quiet = later + limits.WINDOW + timedelta(seconds=1)
    assert limits.current(count, GROWING, quiet) == limits.Count()


def test_one_waiting_key_refuses_the_whole_attempt_and_counts_nothing():
    locked = limits.Count(5, NOW, NOW + timedelta(minutes=1))
    waiting, counted = limits.reserve({"a": locked, "b": None}, {"a": FIXED, "b": GROWING}, NOW)
    assert waiting == NOW + timedelta(minutes=1) and counted is None


def test_a_success_takes_back_only_its_own_failure_and_its_own_wait():
    count = fail(None, FIXED, NOW, times=5)  # the fifth reserved check was right
    assert limits.taken_back(count, FIXED, NOW) == limits.Count(4, NOW, None)
    later = NOW + timedelta(seconds=20)
    growing = fail(fail(None, GROWING, NOW, times=10), GROWING, later)
    assert growing.failures == 11 and growing.until > later  # reserving the 11th set a wait ...
    # ... which the right password lifts: the owner's next login (another device) need not wait.
    assert limits.taken_back(growing, GROWING, later) == limits.Count(10, later, None)
    # A failure counted after the right attempt keeps the wait it set.
    assert limits.taken_back(growing, GROWING, NOW) == limits.Count(10, later, growing.until)


@pytest.mark.parametrize("address, key", [
    ("203.0.113.7", "203.0.113.7"), ("::ffff:203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"), ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2::1", "2001:db8:1:2::/64"), (None, "unknown"), ("x" * 80, "x" * 45),
])
def test_addresses_are_keyed_canonically_ipv6_by_its_64(address, key):
    assert limits.address_key(address) == key
