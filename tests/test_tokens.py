"""publisher.tokens: signed links, plain and dated, as a table of accepted and refused tokens."""

from __future__ import annotations

import pytest

from publisher.errors import LinkExpired, TokenError
from publisher.tokens import sign, sign_dated, verify, verify_dated

KEY = b"k" * 32
ISSUED = 1_763_600_000
DAY = 86_400


def test_a_plain_token_names_its_subscriber() -> None:
    assert verify(KEY, "unsubscribe", sign(KEY, "unsubscribe", 42)) == 42


@pytest.mark.parametrize(
    "token",
    [
        sign(KEY, "confirm", 42),  # another purpose
        sign(b"x" * 32, "unsubscribe", 42),  # another secret
        sign(KEY, "unsubscribe", 42).replace("42.", "43.", 1),  # another subscriber
        "42",
        "42.",
        ".abc",
        "²." + sign(KEY, "unsubscribe", 2).partition(".")[2],  # a digit int() refuses
        "1" * 19 + ".abc",
    ],
)
def test_a_plain_token_refused(token: str) -> None:
    with pytest.raises(TokenError, match="not valid"):
        verify(KEY, "unsubscribe", token)


@pytest.mark.parametrize(
    ("age", "accepted"),
    [(0, True), (7 * DAY, True), (7 * DAY + 1, False), (-60, True), (-300, True)],
)
def test_a_dated_token_works_for_max_age_seconds(age: int, accepted: bool) -> None:
    token = sign_dated(KEY, "confirm", 42, ISSUED)
    if accepted:
        assert verify_dated(KEY, "confirm", token, ISSUED + age, 7 * DAY) == 42
    else:
        with pytest.raises(LinkExpired, match="expired"):
            verify_dated(KEY, "confirm", token, ISSUED + age, 7 * DAY)


@pytest.mark.parametrize(
    "token",
    [
        sign_dated(KEY, "confirm", 42, ISSUED).replace(f".{ISSUED}.", f".{ISSUED + DAY}.", 1),
        sign_dated(KEY, "confirm", 42, ISSUED + 301),  # made in the future
        sign_dated(KEY, "preferences", 42, ISSUED),
        sign(KEY, "confirm", 42),  # undated
        f"42.{'9' * 13}.abc",
        "42..abc",
        f"42.{ISSUED}.",
    ],
)
def test_a_dated_token_refused(token: str) -> None:
    with pytest.raises(TokenError) as caught:
        verify_dated(KEY, "confirm", token, ISSUED, 7 * DAY)
    assert not isinstance(caught.value, LinkExpired)


def test_a_dated_token_is_not_a_plain_one() -> None:
    with pytest.raises(TokenError):
        verify(KEY, "confirm", sign_dated(KEY, "confirm", 42, ISSUED))
