"""publisher.app.signup: the subscriber use cases, with a MemoryTransport for the mail."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine
from web_support import SECRET, confirm_link, make_context, make_site

from publisher.app import signup
from publisher.app.context import Context
from publisher.delivery import MemoryTransport
from publisher.errors import LinkExpired, SubscriberError, TokenError, TransientDeliveryError
from publisher.store import (
    add_subscriber,
    claim_confirmation,
    find_subscriber,
    get_subscriber,
    unsubscribe,
)
from publisher.tokens import sign, sign_dated


@pytest.fixture
def ctx(tmp_path: Path, db: Engine) -> Iterator[Context]:
    context = make_context(make_site(tmp_path, db.url.render_as_string(hide_password=False)))
    yield context
    context.engine.dispose()


def _message(transport: MemoryTransport, index: int = -1) -> EmailMessage:
    parsed = email.message_from_bytes(transport.sent[index].data, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_subscribe_sends_one_confirmation_through_the_given_transport(ctx: Context) -> None:
    mail = MemoryTransport()
    sub = signup.subscribe(ctx, " Ann@Example.org ", "Ann <b>", ("Policy",), transport=mail)
    assert (sub.email, sub.status, sub.categories) == ("Ann@example.org", "pending", ("Policy",))
    [sent] = mail.sent
    assert (sent.sender, sent.recipient) == ("news@blog.example.com", "Ann@example.org")
    assert b"\r\n" in sent.data and b"\n" not in sent.data.replace(b"\r\n", b"")
    message = _message(mail)
    assert message["Auto-Submitted"] == "auto-generated" and message["MIME-Version"] == "1.0"
    for part in message.iter_parts():
        assert part["MIME-Version"] is None and part.get_content_charset() == "utf-8"
    token = confirm_link(message).rsplit("/", 1)[1]
    assert token == sign_dated(SECRET.encode(), "confirm", sub.id, int(ctx.clock().timestamp()))
    assert b"Ann <b>" not in sent.data and b"Ann &lt;b&gt;" not in sent.data
    assert signup.confirm(ctx, token).status == "active"


def test_subscribing_again_while_pending_mails_again_only_after_resend_minutes(
    ctx: Context,
) -> None:
    mail = MemoryTransport()
    signup.subscribe(ctx, "ann@example.org", transport=mail)
    ctx.wall.advance(timedelta(minutes=9, seconds=59))  # [web] resend_minutes = 10
    signup.subscribe(ctx, "ann@example.org", categories=("Policy",), transport=mail)
    assert len(mail.sent) == 1  # the form cannot be used to flood someone's inbox
    # Nothing stored changes until the address holder confirms (tests/test_hostile_web.py).
    assert find_subscriber(ctx.engine, "ann@example.org").categories == ()  # type: ignore[union-attr]
    ctx.wall.advance(timedelta(seconds=1))
    signup.subscribe(ctx, "ann@example.org", transport=mail)
    assert len(mail.sent) == 2
    first, second = (confirm_link(_message(mail, i)) for i in (0, 1))
    assert first != second  # each mail has its own, dated link; both work
    assert signup.confirm(ctx, first.rsplit("/", 1)[1]).status == "active"


def test_a_mail_that_could_not_be_sent_does_not_hold_back_the_next_try(ctx: Context) -> None:
    def refuse(sender: str, recipient: str, data: bytes) -> None:
        raise TransientDeliveryError("451 try again later", smtp_code=451)

    with pytest.raises(TransientDeliveryError):
        signup.subscribe(ctx, "ann@example.org", transport=MemoryTransport(handler=refuse))
    mail = MemoryTransport()
    signup.subscribe(ctx, "ann@example.org", transport=mail)  # at once, not 10 minutes later
    assert [m.recipient for m in mail.sent] == ["ann@example.org"]


def test_requests_racing_for_one_address_get_one_mail(ctx: Context) -> None:
    """Eight form posts for one address at the same moment, in threads: one mail goes out."""
    racers = 8
    mail = MemoryTransport()
    start = threading.Barrier(racers)
    errors: list[BaseException] = []

    def post() -> None:
        start.wait()
        try:
            signup.subscribe(ctx, "ann@example.org", transport=mail)
        except BaseException as exc:  # shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=post) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert [m.recipient for m in mail.sent] == ["ann@example.org"]
    assert find_subscriber(ctx.engine, "ann@example.org").status == "pending"  # type: ignore[union-attr]


def test_only_a_pending_address_is_sent_a_confirmation(ctx: Context) -> None:
    active = add_subscriber(ctx.engine, "bob@example.org", status="active", now=ctx.clock())
    every = timedelta(minutes=10)
    assert not claim_confirmation(ctx.engine, active.id, ctx.clock(), every)


def test_a_confirm_link_expires_after_confirm_days(ctx: Context) -> None:
    mail = MemoryTransport()
    sub = signup.subscribe(ctx, "ann@example.org", transport=mail)
    token = confirm_link(_message(mail)).rsplit("/", 1)[1]
    ctx.wall.advance(timedelta(days=7, seconds=1))  # [web] confirm_days = 7
    for use_case in (signup.check_confirm, signup.confirm):
        with pytest.raises(LinkExpired, match="expired"):
            use_case(ctx, token)
    assert get_subscriber(ctx.engine, sub.id) == sub  # still pending, nothing changed
    signup.subscribe(ctx, "ann@example.org", transport=mail)  # subscribing again: a new link
    fresh = confirm_link(_message(mail)).rsplit("/", 1)[1]
    assert fresh != token and signup.confirm(ctx, fresh).status == "active"


def test_a_confirm_link_works_until_its_last_second(ctx: Context) -> None:
    mail = MemoryTransport()
    signup.subscribe(ctx, "ann@example.org", transport=mail)
    token = confirm_link(_message(mail)).rsplit("/", 1)[1]
    ctx.wall.advance(timedelta(days=7))
    assert signup.check_confirm(ctx, token).status == "pending"  # asking changes nothing
    assert signup.confirm(ctx, token).status == "active"


def test_an_undated_confirm_token_is_not_accepted(ctx: Context) -> None:
    sub = add_subscriber(ctx.engine, "ann@example.org", now=ctx.clock())
    with pytest.raises(TokenError):
        signup.confirm(ctx, sign(SECRET.encode(), "confirm", sub.id))
    assert get_subscriber(ctx.engine, sub.id) == sub


@pytest.mark.parametrize("status", ["active", "bounced"])
def test_an_address_on_the_list_is_neither_changed_nor_mailed(ctx: Context, status: str) -> None:
    add_subscriber(ctx.engine, "ann@example.org", status=status, now=ctx.clock())  # type: ignore[arg-type]
    mail = MemoryTransport()
    sub = signup.subscribe(ctx, "ANN@example.org", categories=("Policy",), transport=mail)
    assert (sub.status, sub.categories, mail.sent) == (status, (), [])


def test_someone_who_left_can_subscribe_again_but_must_confirm(ctx: Context) -> None:
    old = add_subscriber(ctx.engine, "ann@example.org", status="active", now=ctx.clock())
    unsubscribe(ctx.engine, old.id, ctx.clock())
    mail = MemoryTransport()
    # Unsubscribed until the holder confirms (tests/test_hostile_web.py), but mailed a link.
    assert signup.subscribe(ctx, "ann@example.org", transport=mail).status == "unsubscribed"
    assert len(mail.sent) == 1
    assert signup.confirm(ctx, confirm_link(_message(mail)).rsplit("/", 1)[1]).status == "active"


def test_an_invalid_address_is_a_subscriber_error_and_nothing_is_sent(ctx: Context) -> None:
    mail = MemoryTransport()
    with pytest.raises(SubscriberError):
        signup.subscribe(ctx, "nobody", transport=mail)
    assert mail.sent == []


def test_categories_the_site_does_not_have_are_dropped(ctx: Context) -> None:
    chosen = ("投資分析", "Nope", " Policy ", "投資分析")
    sub = signup.subscribe(ctx, "a@example.org", categories=chosen, transport=MemoryTransport())
    assert sub.categories == ("投資分析", "Policy")


def test_site_categories_most_used_first(ctx: Context) -> None:
    # Published by 2025-11-20 09:00 JST: 業界別AI活用 ×4, Engineering and 投資分析 ×3, …
    assert signup.site_categories(ctx) == [
        "業界別AI活用",
        "Engineering",
        "投資分析",
        "Policy",
        "技術解説",
        "入門",
    ]


def test_tokens_are_checked_before_anything_changes(ctx: Context) -> None:
    sub = add_subscriber(ctx.engine, "ann@example.org", now=ctx.clock())
    good = sign(SECRET.encode(), "preferences", sub.id)
    for use_case in (signup.confirm, signup.unsubscribe_by_token, signup.check_unsubscribe):
        with pytest.raises(TokenError):
            use_case(ctx, good)  # a preferences token, not theirs
    with pytest.raises(TokenError):
        signup.set_preferences(ctx, good[:-2] + "xx", ("Policy",))
    assert find_subscriber(ctx.engine, "ann@example.org") == sub
    assert signup.set_preferences(ctx, good, ("Policy",)).categories == ("Policy",)


def test_the_form_stamp_is_signed_and_expires(ctx: Context) -> None:
    stamp = signup.form_stamp(ctx)
    signup.check_form_stamp(ctx, stamp)
    issued, _, mac = stamp.partition(".")
    with pytest.raises(TokenError):
        signup.check_form_stamp(ctx, f"{int(issued) - 1}.{mac}")
    ctx.wall.advance(signup.FORM_MAX_AGE + timedelta(seconds=1))
    with pytest.raises(TokenError, match="expired"):
        signup.check_form_stamp(ctx, stamp)
