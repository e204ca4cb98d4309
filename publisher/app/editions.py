"""Use cases of the weekly digest: preview, test, send, status.

An edition covers the posts published after the previous edition's cutoff and
up to its own (``now``); the first one looks back ``first_edition_days``. The
cutoff is stored with the edition, so a missed week or a crash never skips or
repeats a post, and an unfinished edition is resumed before a new one is made.

Rendering happens once per audience group (subscribers with the same choice of
categories): Jinja → premailer → MIME bytes with placeholders
(:class:`EditionDraft`); each subscriber only gets their own values spliced in
(:class:`Composer`). The rendered messages are stored with the edition when it
is created, so that a resumed send, a retry or a worker on another machine
sends exactly what was planned, from the database alone.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from publisher.app.context import Context, read_site
from publisher.digest.edition import posts_for_audience, select_posts
from publisher.digest.message import MessageTemplate, build_template, personalize
from publisher.digest.render import DigestContent, render_digest
from publisher.errors import PermanentDeliveryError, PublisherError
from publisher.models import OutboxItem, Post, audience_categories
from publisher.tokens import sign

__all__ = [
    "Composer",
    "EditionDraft",
    "EditionPlan",
    "TemplateSource",
    "next_plan",
    "plan_next_edition",
    "posts_by_id",
    "stored_templates",
]


@dataclass(frozen=True)
class EditionPlan:
    """What the next edition would hold, before anything is written."""

    number: int
    cutoff_from: datetime
    cutoff_to: datetime
    posts: tuple[Post, ...]
    after: datetime | None = None
    """The previous edition's cutoff this plan starts from (None: the first edition)."""


def _published_posts(ctx: Context, now: datetime) -> tuple[Post, ...]:
    return read_site(ctx, now).posts


def next_plan(ctx: Context) -> EditionPlan:
    """What the next edition would hold now: the posts since the newest edition's cutoff."""
    from publisher.store import latest_edition

    latest = latest_edition(ctx.engine)
    last_cutoff = latest.cutoff_to if latest else None
    return plan_next_edition(ctx, last_cutoff, latest.number + 1 if latest else 1)


def plan_next_edition(ctx: Context, last_cutoff: datetime | None, number: int) -> EditionPlan:
    """The posts after ``last_cutoff`` up to now (may be none)."""
    now = ctx.as_of()
    days = ctx.config.digest.first_edition_days
    posts = select_posts(_published_posts(ctx, now), last_cutoff, now, days)
    start = last_cutoff or now - timedelta(days=days)
    return EditionPlan(
        number=number, cutoff_from=start, cutoff_to=now, posts=tuple(posts), after=last_cutoff
    )


def posts_by_id(ctx: Context, ids: Sequence[str]) -> tuple[Post, ...]:
    """The edition's posts, re-read from the site (newest first); deleted ones are gone.

    Only for editions created before their messages were stored (revision 0004).
    """
    wanted = set(ids)
    return tuple(p for p in _published_posts(ctx, ctx.as_of()) if p.id in wanted)


@dataclass
class EditionDraft:
    """An edition rendered from its posts: each audience's message, built once, on demand.

    This is what is frozen into the database when the edition is created
    (:meth:`messages`), and what previews and test copies show. Safe to share
    between threads: a message is built under a lock, once.
    """

    ctx: Context
    number: int
    cutoff: datetime
    date: datetime
    """The ``Date`` of the messages: the edition's creation time."""
    posts: tuple[Post, ...]
    _templates: dict[str, MessageTemplate | None] = field(default_factory=dict)
    _contents: dict[str, DigestContent | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def template_for(self, audience: str) -> MessageTemplate | None:
        """The message for an audience key, or None when none of its categories has a post."""
        try:
            return self._templates[audience]
        except KeyError:
            pass
        with self._lock:
            if audience not in self._templates:
                content = self._content(audience)
                self._templates[audience] = None if content is None else self._build(content)
            return self._templates[audience]

    def messages(self, audiences: Sequence[str]) -> dict[str, tuple[bytes, int]]:
        """The stored form of each audience's message (and its post count); none without posts."""
        stored: dict[str, tuple[bytes, int]] = {}
        for audience in audiences:
            template = self.template_for(audience)
            content = self._contents.get(audience)
            if template is not None and content is not None:
                stored[audience] = (template.to_bytes(), content.posts)
        return stored

    @property
    def subject(self) -> str:
        """The subject as subscribers of every category see it (stored with the edition)."""
        self.template_for("")
        content = self._contents.get("")
        return content.subject if content is not None else f"#{self.number}"

    def _content(self, audience: str) -> DigestContent | None:
        if audience not in self._contents:
            chosen = posts_for_audience(self.posts, audience_categories(audience))
            self._contents[audience] = (
                render_digest(
                    chosen, number=self.number, cutoff=self.cutoff, settings=self.ctx.config
                )
                if chosen
                else None
            )
        return self._contents[audience]

    def _build(self, content: DigestContent) -> MessageTemplate:
        config = self.ctx.config
        return build_template(
            content,
            settings=config,
            edition_number=self.number,
            date=self.date,
            list_id=f"digest.{config.site.domain}",
        )


TemplateSource = Callable[[str], "MessageTemplate | None"]
"""The message of an audience key (None: there is none for it)."""


class Composer:
    """Personalises an edition's messages, one outbox item at a time (safe across threads).

    The messages come from ``source``: the ones stored with the edition
    (:func:`stored_templates`), or a draft's for previews and test copies.
    Only the secret and ``[web] base_url`` / the site's domain come from the settings.
    """

    def __init__(self, ctx: Context, number: int, source: TemplateSource) -> None:
        self.number = number
        self.source = source
        self.secret = ctx.secret
        self.base = ctx.config.web.base_url.rstrip("/")
        self.domain = ctx.config.site.domain

    def personal(
        self, template: MessageTemplate, subscriber_id: int, email: str, name: str
    ) -> bytes:
        """One subscriber's copy: their address, name, Message-ID and signed links."""
        secret, base, domain = self.secret, self.base, self.domain
        token = sign(secret, "unsubscribe", subscriber_id)
        mac = hmac.digest(secret, f"{self.number}/{subscriber_id}".encode(), "sha256")
        return personalize(
            template,
            to=email,
            name=name,
            message_id=f"<digest.{self.number}.{subscriber_id}.{mac.hex()[:12]}@{domain}>",
            unsubscribe_url=f"{base}/unsubscribe/{token}",
            unsubscribe_mailto=f"mailto:{template.sender}?subject=unsubscribe%20{token}",
            preferences_url=f"{base}/preferences/{sign(secret, 'preferences', subscriber_id)}",
        )

    def compose(self, item: OutboxItem) -> tuple[str, bytes]:
        """(envelope sender, bytes) for one outbox row: the worker's ``Compose``."""
        template = self.source(item.audience)
        if template is None:
            raise PermanentDeliveryError(
                f"edition {self.number} has no message for this subscriber's categories"
            )
        return template.sender, self.personal(template, item.subscriber_id, item.email, item.name)


def stored_templates(number: int, stored: dict[str, bytes]) -> TemplateSource:
    """A source over the messages stored with edition ``number``, each decoded on first use."""
    decoded: dict[str, MessageTemplate] = {}
    lock = threading.Lock()

    def source(audience: str) -> MessageTemplate | None:
        template = decoded.get(audience)
        if template is None and audience in stored:
            with lock:
                try:
                    template = MessageTemplate.from_bytes(stored[audience])
                except ValueError as exc:
                    raise PublisherError(f"edition {number}: a stored message: {exc}") from exc
                decoded[audience] = template
        return template

    return source
