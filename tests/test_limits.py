"""publisher.web.limits: the per-client limit of the subscribe form, with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from publisher.web.limits import RateLimit, client_key

T0 = datetime(2025, 11, 20, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_at_most_limit_requests_in_any_window() -> None:
    limit = RateLimit(3, HOUR)
    at = [T0, T0 + timedelta(minutes=10), T0 + timedelta(minutes=20)]
    assert [limit.allow("a", t) for t in at] == [True, True, True]
    assert not limit.allow("a", T0 + timedelta(minutes=59))
    assert limit.retry_after("a", T0 + timedelta(minutes=59)) == 60
    assert limit.allow("b", T0 + timedelta(minutes=59))  # others are counted apart
    assert limit.allow("a", T0 + HOUR)  # the first one left the window
    assert not limit.allow("a", T0 + HOUR + timedelta(minutes=1))
    assert limit.retry_after("a", T0 + HOUR + timedelta(minutes=1)) == 9 * 60


def test_refused_requests_do_not_count() -> None:
    limit = RateLimit(1, HOUR)
    assert limit.allow("a", T0)
    for minute in range(1, 60):
        assert not limit.allow("a", T0 + timedelta(minutes=minute))
    assert limit.allow("a", T0 + HOUR)


def test_zero_means_no_limit() -> None:
    limit = RateLimit(0, HOUR)
    assert all(limit.allow("a", T0) for _ in range(1000))
    assert limit.retry_after("a", T0) == 0


def test_memory_is_bounded_and_the_longest_unseen_client_goes_first() -> None:
    limit = RateLimit(1, HOUR, max_keys=3)
    for key in "abc":
        assert limit.allow(key, T0)
    assert not limit.allow("a", T0)
    assert limit.allow("d", T0)  # "a" was seen first and is forgotten
    assert limit.allow("a", T0)
    assert not limit.allow("d", T0)


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("testclient", "testclient"),
        (None, "?"),
        ("", "?"),
    ],
)
def test_client_key(host: str | None, key: str) -> None:
    assert client_key(host) == key
