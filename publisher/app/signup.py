"""Use cases of the subscriber pages: subscribe, confirm, unsubscribe, preferences.

Subscribing is double opt-in: a new address is stored as ``pending`` and gets
a mail with a signed, dated ``confirm`` link; only confirming makes it
``active``. The link works for ``[web] confirm_days``
(:class:`~publisher.errors.LinkExpired` after that), and an address gets at
most one confirmation mail per ``[web] resend_minutes``, so the form cannot
be used to flood someone's inbox.

Until its holder confirms, nothing stored for an address changes: a request
for one already pending or unsubscribed stores nothing; its name and
categories travel in the link it mails (``<id>.<issued>.<mac>~<choice>``, the
choice signed too), and confirming that link applies them (and brings back
someone who left before asking for it). At most ``[web] pending_per_hour``
sign-ups an hour (:class:`TooManySignups`); pending addresses whose last link
expired are deleted (:func:`purge_expired`, on every sign-up and hourly by
``publisher run``). Every other page is reached through a signed link: the
token is the authority, and a forged one raises
:class:`~publisher.errors.TokenError` before anything is read or changed.

>>> sub = subscribe(ctx, "ann@example.org", categories=("投資分析",))   # doctest: +SKIP
>>> sub.status                                                          # doctest: +SKIP
'pending'
>>> confirm(ctx, token_from_the_mail).status                            # doctest: +SKIP
'active'
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from publisher.app.context import Context, read_site
from publisher.app.sending import make_transport
from publisher.delivery import Transport
from publisher.digest.address import envelope_sender, sender_of
from publisher.digest.confirmation import build_confirmation, message_bytes
from publisher.digest.render import render_confirmation
from publisher.errors import LinkExpired, PublisherError, SubscriberError, TokenError
from publisher.models import REOPENABLE, Subscriber
from publisher.store import subscribers as store
from publisher.tokens import sign_dated, sign_form, verify, verify_dated, verify_form

__all__ = [
    "FORM_MAX_AGE",
    "ConfirmRequest",
    "TooManySignups",
    "check_confirm",
    "check_form_stamp",
    "check_unsubscribe",
    "confirm",
    "confirm_request",
    "form_stamp",
    "preferences",
    "purge_expired",
    "set_preferences",
    "site_categories",
    "subscribe",
    "unsubscribe_by_token",
]

FORM_MAX_AGE = timedelta(days=1)
"""How long a subscribe form stays valid after it was served."""
_FORM = "subscribe-form"
_MAX_NAME = 200
_MAX_CHOICE = 8000  # characters of a choice in a confirm link (uvicorn takes 16 kB lines)
Choice = tuple[str, tuple[str, ...]]  # a request's name and categories, as its link carries them


class TooManySignups(PublisherError):
    """The site took ``[web] pending_per_hour`` sign-ups in the last hour: try again later."""


@dataclass(frozen=True)
class ConfirmRequest:
    """What a genuine confirm link asks: whom, since when, and the choice it carries."""

    subscriber: Subscriber
    issued: datetime
    choice: Choice | None
    """The name and categories asked for; None: keep what is stored."""

    @property
    def opens(self) -> bool:
        """Whether confirming makes the address active: it is pending, or this link carries
        a choice asked for after its holder unsubscribed."""
        status, left = self.subscriber.status, self.subscriber.unsubscribed_at
        reasked = self.choice is not None and (left is None or left <= self.issued)
        return status == "pending" or (status == "unsubscribed" and reasked)


def subscribe(
    ctx: Context,
    email: str,
    name: str = "",
    categories: Iterable[str] = (),
    transport: Transport | None = None,
) -> Subscriber:
    """Ask for ``email`` to be subscribed: mail it a confirm link; store it only if it is new.

    A new address is added as pending with this name and categories. For one
    already pending or unsubscribed nothing stored changes: the link carries
    the choice. An active (or bounced) address is mailed nothing, and the
    visitor sees the same page, so the form tells no one who is subscribed.
    An address mailed in the last ``[web] resend_minutes`` is not mailed
    again. Categories the site does not have are dropped (none left: all).
    ``transport`` defaults to :func:`~publisher.app.sending.make_transport`.
    Raises :class:`SubscriberError` for an address that is not valid and
    :class:`TooManySignups` past ``[web] pending_per_hour``.
    """
    address = store.normalise_email(email)
    name = " ".join(name.split())[:_MAX_NAME]  # from a public form: one line, bounded
    chosen, now = _known_categories(ctx, categories), ctx.clock()
    purge_expired(ctx)
    limit = ctx.config.web.pending_per_hour
    if limit and store.count_signups(ctx.engine, now - timedelta(hours=1)) >= limit:
        raise TooManySignups(f"more than {limit} sign-ups in the last hour")
    sub, choice = store.add_pending(ctx.engine, address, name, chosen, now), None
    if sub is None:
        sub = store.find_subscriber(ctx.engine, address)
        if sub is None:
            raise SubscriberError(address, "removed meanwhile: please try again")
        if sub.status not in REOPENABLE:
            return sub
        same = sub.status == "pending" and (name, chosen) == (sub.name, sub.categories)
        choice = None if same else (name, chosen)
    every = timedelta(minutes=ctx.config.web.resend_minutes)
    if store.claim_confirmation(ctx.engine, sub.id, now, every):
        try:
            _send_confirmation(ctx, sub, choice, transport)
        except BaseException:
            store.release_confirmation(ctx.engine, sub.id, now)
            raise
    return sub


def purge_expired(ctx: Context) -> int:
    """Delete the pending addresses whose last confirm link has expired; how many.

    Only pending ones (never anyone active, bounced or unsubscribed); safe to repeat.
    """
    before = ctx.clock() - timedelta(days=ctx.config.web.confirm_days)
    return store.purge_expired_pending(ctx.engine, before)


def check_confirm(ctx: Context, token: str) -> Subscriber:
    """The subscriber a confirm link is for; changes nothing (see :func:`confirm_request`)."""
    return confirm_request(ctx, token).subscriber


def confirm_request(ctx: Context, token: str) -> ConfirmRequest:
    """What a confirm link asks; changes nothing (the page asks first).

    Raises :class:`~publisher.errors.LinkExpired` for a link older than ``[web] confirm_days``.
    """
    dated, _, packed = token.partition("~")
    if len(packed) > _MAX_CHOICE:
        raise TokenError("this link is not valid")
    purpose = f"confirm/{packed}" if packed else "confirm"
    max_age, now = ctx.config.web.confirm_days * 86_400, int(ctx.clock().timestamp())
    sub = store.get_subscriber(
        ctx.engine, verify_dated(ctx.secret, purpose, dated, now, max_age)
    )  # the choice is read only once its signature is checked
    if sub is None:  # a genuine link of someone removed since
        raise TokenError("this link is no longer valid")
    issued = datetime.fromtimestamp(int(dated.split(".")[1]), UTC)
    return ConfirmRequest(sub, issued, _unpack(packed) if packed else None)


def confirm(ctx: Context, token: str) -> Subscriber:
    """Pending becomes active, with the link's choice. Someone who unsubscribed since stays so;
    someone who unsubscribed before the link was made (and asked for it) comes back."""
    asked = confirm_request(ctx, token)
    return store.confirm_subscriber(
        ctx.engine, asked.subscriber.id, ctx.clock(), issued=asked.issued, choice=asked.choice
    )


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


def form_stamp(ctx: Context, client: str = "") -> str:
    """A signed timestamp for the subscribe form's hidden field, good for ``client`` only."""
    return sign_form(ctx.secret, f"{_FORM}/{client}", int(ctx.clock().timestamp()))


def check_form_stamp(ctx: Context, stamp: str, client: str = "") -> None:
    """Raise :class:`TokenError` unless ``stamp`` came from :func:`form_stamp` for ``client``
    within a day.

    Keeps out bots that post the form without loading it first, and a stamp
    serves one client only (whose posts are counted); it is no defence
    against a browser-driving bot (that is what confirming is for).
    """
    now, max_age = int(ctx.clock().timestamp()), int(FORM_MAX_AGE.total_seconds())
    try:
        verify_form(ctx.secret, f"{_FORM}/{client}", stamp, now, max_age)
    except LinkExpired as exc:
        raise TokenError("this form has expired: please load the page again") from exc


def _subscriber(ctx: Context, purpose: str, token: str) -> Subscriber:
    sub = store.get_subscriber(ctx.engine, verify(ctx.secret, purpose, token))
    if sub is None:  # a genuine link of someone removed since
        raise TokenError("this link is no longer valid")
    return sub


def _pack(choice: Choice) -> str:
    text = json.dumps([choice[0], list(choice[1])], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode("ascii")


def _unpack(packed: str) -> Choice:
    """The choice a confirm link carries; :class:`TokenError` for anything but a packed one."""
    try:
        raw = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4))
        name, categories = json.loads(raw.decode())
        if not isinstance(name, str) or not all(isinstance(c, str) for c in categories):
            raise ValueError("not a choice")
    except (ValueError, TypeError, binascii.Error) as exc:
        raise TokenError("this link is not valid") from exc
    return name, tuple(categories)


def _known_categories(ctx: Context, categories: Iterable[str]) -> tuple[str, ...]:
    wanted = [c.strip() for c in categories if c.strip()]
    if not wanted:
        return ()
    known = set(site_categories(ctx))
    return tuple(c for c in dict.fromkeys(wanted) if c in known)


def _confirm_token(ctx: Context, sub: Subscriber, choice: Choice | None, issued: int) -> str:
    packed = _pack(choice) if choice else ""
    token = sign_dated(ctx.secret, f"confirm/{packed}" if packed else "confirm", sub.id, issued)
    return f"{token}~{packed}" if packed else token


def _send_confirmation(
    ctx: Context, sub: Subscriber, choice: Choice | None, transport: Transport | None
) -> str:
    settings = ctx.config
    base = settings.web.base_url.rstrip("/")
    now = ctx.clock()
    url = f"{base}/confirm/{_confirm_token(ctx, sub, choice, int(now.timestamp()))}"
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
    mail = transport or make_transport(
        ctx.config.smtp, ctx.credentials.smtp_password, ctx.var / "outbox" / "confirm"
    )
    try:
        return mail.send(envelope_sender(settings), sub.email, message_bytes(message))
    finally:
        if transport is None:
            mail.close()
