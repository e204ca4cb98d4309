"""Use cases of the subscriber pages: subscribe, confirm, unsubscribe, preferences.

Subscribing is double opt-in: the address is stored as ``pending`` and gets a
mail with a signed, dated ``confirm`` link; only confirming makes it
``active``. The link works for ``[web] confirm_days``
(:class:`~publisher.errors.LinkExpired` after that), and an address gets at
most one confirmation mail per ``[web] resend_minutes``, so the form cannot
be used to flood someone's inbox. Every other page is reached through a
signed link (``unsubscribe``, ``preferences``): the token is the authority,
and a forged or altered one raises :class:`~publisher.errors.TokenError`
before anything is read or changed. (Requests per client are limited by the
web edge, see :class:`publisher.web.limits.RateLimit`.)

>>> sub = subscribe(ctx, "ann@example.org", categories=("投資分析",))   # doctest: +SKIP
>>> sub.status                                                          # doctest: +SKIP
'pending'
>>> confirm(ctx, token_from_the_mail).status                            # doctest: +SKIP
'active'
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import timedelta

from publisher.app.context import Context, read_site
from publisher.app.sending import make_transport
from publisher.delivery import Transport
from publisher.digest.address import envelope_sender, sender_of
from publisher.digest.confirmation import build_confirmation, message_bytes
from publisher.digest.render import render_confirmation
from publisher.errors import LinkExpired, SubscriberError, TokenError
from publisher.models import REOPENABLE, Subscriber
from publisher.store import subscribers as store
from publisher.tokens import sign_dated, sign_form, verify, verify_dated, verify_form

__all__ = [
    "FORM_MAX_AGE",
    "check_confirm",
    "check_form_stamp",
    "check_unsubscribe",
    "confirm",
    "form_stamp",
    "preferences",
    "set_preferences",
    "site_categories",
    "subscribe",
    "unsubscribe_by_token",
]

FORM_MAX_AGE = timedelta(days=1)
"""How long a subscribe form stays valid after it was served."""
_FORM = "subscribe-form"
_MAX_NAME = 200
# Active (or bounced) addresses are neither re-added nor mailed: the visitor
# sees the same page either way, so the form does not tell who is subscribed.


def subscribe(
    ctx: Context,
    email: str,
    name: str = "",
    categories: Iterable[str] = (),
    transport: Transport | None = None,
) -> Subscriber:
    """Add ``email`` as pending and mail it a confirm link; an active address is left as it is.

    A pending address already mailed in the last ``[web] resend_minutes`` is
    not mailed again. Categories the site does not have are dropped (none
    left: every category).
    ``transport`` defaults to :func:`~publisher.app.sending.make_transport`
    (SMTP, or ``.eml`` files in ``var/outbox/confirm/``).
    Raises :class:`SubscriberError` for an address that is not valid.
    """
    address = store.normalise_email(email)
    name = " ".join(name.split())[:_MAX_NAME]  # from a public form: one line, bounded
    known = store.find_subscriber(ctx.engine, address)
    if known is not None and known.status not in REOPENABLE:
        return known
    chosen = _known_categories(ctx, categories)
    try:
        sub = store.add_subscriber(
            ctx.engine, address, name=name, categories=chosen, status="pending", now=ctx.clock()
        )
    except SubscriberError:
        known = store.find_subscriber(ctx.engine, address)
        if known is not None and known.status not in REOPENABLE:
            return known  # confirmed in another request meanwhile
        raise
    now = ctx.clock()
    every = timedelta(minutes=ctx.config.web.resend_minutes)
    if store.claim_confirmation(ctx.engine, sub.id, now, every):
        try:
            _send_confirmation(ctx, sub, transport)
        except BaseException:
            store.release_confirmation(ctx.engine, sub.id, now)
            raise
    return sub


def check_confirm(ctx: Context, token: str) -> Subscriber:
    """The subscriber a confirm link is for; changes nothing (the page asks first).

    Raises :class:`~publisher.errors.LinkExpired` for a link older than
    ``[web] confirm_days``.
    """
    return _subscriber(ctx, "confirm", token)


def confirm(ctx: Context, token: str) -> Subscriber:
    """Pending becomes active. Someone who unsubscribed since stays unsubscribed."""
    sub = _subscriber(ctx, "confirm", token)
    return store.confirm_subscriber(ctx.engine, sub.id, ctx.clock())


def check_unsubscribe(ctx: Context, token: str) -> Subscriber:
    """The subscriber an unsubscribe link is for; changes nothing (the page asks first)."""
    return _subscriber(ctx, "unsubscribe", token)


def unsubscribe_by_token(ctx: Context, token: str) -> Subscriber:
    """Take the link's subscriber off the list (RFC 8058 one-click too); safe to repeat."""
    sub = _subscriber(ctx, "unsubscribe", token)
    return store.unsubscribe(ctx.engine, sub.id, ctx.clock())


def preferences(ctx: Context, token: str) -> Subscriber:
    """The link's subscriber, to show their choice of categories."""
    return _subscriber(ctx, "preferences", token)


def set_preferences(ctx: Context, token: str, categories: Iterable[str]) -> Subscriber:
    """Replace the link's subscriber's categories (none, or none the site has: every one)."""
    sub = _subscriber(ctx, "preferences", token)
    chosen = _known_categories(ctx, categories)
    return store.set_categories(ctx.engine, sub.id, chosen, ctx.clock())


def site_categories(ctx: Context) -> list[str]:
    """The categories of the published posts, most used first (then by name)."""
    posts = read_site(ctx).posts
    counts: dict[str, int] = {}
    for post in posts:
        for category in post.categories:
            counts[category] = counts.get(category, 0) + 1
    return sorted(counts, key=lambda name: (-counts[name], name))


def form_stamp(ctx: Context) -> str:
    """A signed timestamp for the subscribe form's hidden field."""
    return sign_form(ctx.secret, _FORM, int(ctx.clock().timestamp()))


def check_form_stamp(ctx: Context, stamp: str) -> None:
    """Raise :class:`TokenError` unless ``stamp`` came from :func:`form_stamp` within a day.

    Keeps out bots that post the form without loading it first; it is no
    defence against a browser-driving one (that is what confirming is for).
    """
    now, max_age = int(ctx.clock().timestamp()), int(FORM_MAX_AGE.total_seconds())
    try:
        verify_form(ctx.secret, _FORM, stamp, now, max_age)
    except LinkExpired as exc:
        raise TokenError("this form has expired: please load the page again") from exc


def _subscriber(ctx: Context, purpose: str, token: str) -> Subscriber:
    if purpose == "confirm":
        max_age = ctx.config.web.confirm_days * 86_400
        now = int(ctx.clock().timestamp())
        subscriber_id = verify_dated(ctx.secret, purpose, token, now, max_age)
    else:
        subscriber_id = verify(ctx.secret, purpose, token)
    sub = store.get_subscriber(ctx.engine, subscriber_id)
    if sub is None:  # a genuine link of someone removed since
        raise TokenError("this link is no longer valid")
    return sub


def _known_categories(ctx: Context, categories: Iterable[str]) -> tuple[str, ...]:
    wanted = [c.strip() for c in categories if c.strip()]
    if not wanted:
        return ()
    known = set(site_categories(ctx))
    return tuple(c for c in dict.fromkeys(wanted) if c in known)


def _send_confirmation(ctx: Context, sub: Subscriber, transport: Transport | None) -> str:
    settings = ctx.config
    base = settings.web.base_url.rstrip("/")
    now = ctx.clock()
    url = f"{base}/confirm/{sign_dated(ctx.secret, 'confirm', sub.id, int(now.timestamp()))}"
    # Unique per request (a second subscribe sends a second mail), yet no clock read deep down.
    stamp = f"{sub.id}.{now.timestamp():.6f}"
    tag = hmac.new(ctx.secret, stamp.encode(), hashlib.sha256).hexdigest()[:12]
    message = build_confirmation(
        render_confirmation(confirm_url=url, settings=settings),
        sender=sender_of(ctx.config),
        to=sub.email,
        date=now,
        message_id=f"<confirm.{sub.id}.{tag}@{settings.site.domain}>",
        reply_to=settings.digest.reply_to,
    )
    mail = transport or make_transport(ctx, ctx.var / "outbox" / "confirm")
    try:
        return mail.send(envelope_sender(settings), sub.email, message_bytes(message))
    finally:
        if transport is None:
            mail.close()
