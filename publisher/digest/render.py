"""Render a digest once per audience group: Jinja → premailer (CSS inlined) + a text part.

Templates live in ``templates/digest/`` and install with the
package; a ``digest.templates`` folder overrides any of them by file name.
``*.html.j2`` are autoescaped, ``*.txt.j2`` are not. The stylesheet is
included raw (never escaped: ``'Hiragino Sans'`` must stay quoted, or
premailer drops the whole declaration), premailer copies it into ``style``
attributes and keeps the ``<style>`` block, so ``@media`` rules (narrow
screens, dark mode) still work in clients that read them.

Per-subscriber values are unknown here: the templates print the tokens of
:mod:`publisher.digest.placeholders`, which :mod:`publisher.digest.message`
fills in. This is the only module that imports Jinja2 or premailer.

The confirmation email (double opt-in) is rendered here too, from
``templates/email/confirm.{html,txt}.j2``: one message, no placeholders.

>>> content = render_digest(posts, number=3, cutoff=now, settings=settings)  # doctest: +SKIP
>>> content.subject, content.posts, content.omitted                          # doctest: +SKIP
('Tsumiki Notes — 2025年11月20日', 5, 0)
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from publisher.config import Settings
from publisher.digest.edition import reading_minutes
from publisher.digest.labels import confirm_labels_for, format_date, labels_for
from publisher.digest.placeholders import PREFERENCES_URL, SUBSCRIBER_NAME, UNSUBSCRIBE_URL
from publisher.files import template_folder
from publisher.models import Post

__all__ = [
    "MAX_HTML_BYTES",
    "PREFERENCES_URL",
    "SUBSCRIBER_NAME",
    "TEMPLATES",
    "UNSUBSCRIBE_URL",
    "ConfirmationContent",
    "DigestContent",
    "PostView",
    "render_confirmation",
    "render_digest",
]

TEMPLATES = template_folder("digest")
EMAIL_TEMPLATES = template_folder("email")
# Gmail clips an HTML part over ~102 KB behind a "[Message clipped]" link,
# which also hides the footer and its unsubscribe link; stay below that.
MAX_HTML_BYTES = 100_000
# Characters a title or excerpt keeps when one post is too big for the budget, tried in
# turn (0: all); a tenth of them is how many categories it keeps.
_CUTS = (0, 2000, 500, 100, 20)


@dataclass(frozen=True)
class DigestContent:
    """One audience group's digest: subject, inlined HTML and text, with placeholders."""

    subject: str
    html: str
    text: str
    posts: int
    """How many posts the digest shows."""
    omitted: int
    """How many newer-than-the-last-edition posts were left out (size or ``max_posts``)."""


@dataclass(frozen=True)
class PostView:
    """A post as the templates show it: every value already formatted."""

    title: str
    url: str
    date: str
    categories: tuple[str, ...]
    excerpt: str
    minutes: str


def render_digest(
    posts: Sequence[Post], *, number: int, cutoff: datetime, settings: Settings
) -> DigestContent:
    """Render the digest of ``posts`` (one audience group's) as HTML and text.

    Shows the newest ``digest.max_posts`` posts, and fewer if the inlined HTML
    would pass :data:`MAX_HTML_BYTES`; a link to the site then stands for the rest.
    When one post alone is too big, its title and excerpt are cut (and its
    categories), shorter until the HTML fits; should even the shortest not fit,
    the link stands for every post. The footer, with its unsubscribe link, is
    never past the point where Gmail clips.

    >>> render_digest(posts, number=1, cutoff=now, settings=settings).omitted  # doctest: +SKIP
    0
    """
    env = _environment(settings.digest.templates)
    ordered = sorted(posts, key=lambda post: (post.date, post.path), reverse=True)
    subject = _subject(settings, number, cutoff, len(ordered))
    keep, cuts = min(len(ordered), settings.digest.max_posts), iter(_CUTS)
    cut = next(cuts)
    while True:
        shown = [_view(post, settings, cut) for post in ordered[:keep]]
        context = _context(shown, len(ordered) - keep, number, cutoff, subject, settings)
        html = _inline(env.get_template("edition.html.j2").render(context))
        size = len(html.encode("utf-8"))
        if size <= MAX_HTML_BYTES or keep == 0:
            break
        if keep > 1:
            keep = max(1, min(keep - 1, keep * MAX_HTML_BYTES // size))
        else:  # one post too big: shorter title and excerpt, at last not even that post
            cut = next(cuts, 0)
            keep = keep if cut else 0
    text = env.get_template("edition.txt.j2").render(context)
    return DigestContent(
        subject=subject, html=html, text=text, posts=keep, omitted=len(ordered) - keep
    )


@dataclass(frozen=True)
class ConfirmationContent:
    """The confirmation email: subject, inlined HTML and text, with the link in place."""

    subject: str
    html: str
    text: str


def render_confirmation(*, confirm_url: str, settings: Settings) -> ConfirmationContent:
    """The email asking a new subscriber to confirm their address, in the site's language.

    It greets no one by name and quotes nothing the visitor typed: anyone can
    put any address in the form, so the mail must carry no text of theirs to
    someone else's inbox.

    >>> render_confirmation(confirm_url=url, settings=settings).subject  # doctest: +SKIP
    '【Tsumiki Notes】ニュースレター登録のご確認'
    """
    site, words = settings.site, confirm_labels_for(settings.site.lang)
    env = _environment(settings.digest.templates, EMAIL_TEMPLATES)
    subject = words.format(words.subject, site.title)
    context: dict[str, Any] = {
        "lang": words.lang,
        "t": words,
        "subject": subject,
        "intro": words.format(words.intro, site.title),
        "site": {"title": site.title, "url": site.root_url + "/"},
        "confirm_url": confirm_url,
        "expires": words.format(words.expires, site.title, settings.web.confirm_days),
        "postal_address": [line.strip() for line in settings.digest.postal_address.splitlines()],
    }
    html = _inline(env.get_template("confirm.html.j2").render(context))
    text = env.get_template("confirm.txt.j2").render(context)
    return ConfirmationContent(subject=subject, html=html, text=text)


@functools.lru_cache(maxsize=8)
def _environment(override: str, folder: Path = TEMPLATES) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if override:
        loaders.append(jinja2.FileSystemLoader(override))
    loaders.append(jinja2.FileSystemLoader(folder))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2", "html"), default_for_string=False, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _subject(settings: Settings, number: int, cutoff: datetime, count: int) -> str:
    day = format_date(cutoff.astimezone(settings.site.tz).date(), settings.site.lang)
    values = {"site": settings.site.title, "number": str(number), "date": day, "count": str(count)}
    subject = settings.digest.subject
    for key, value in values.items():
        subject = subject.replace("{" + key + "}", value)
    return " ".join(subject.split())


def _context(
    views: list[PostView],
    omitted: int,
    number: int,
    cutoff: datetime,
    subject: str,
    settings: Settings,
) -> dict[str, Any]:
    site, labels = settings.site, labels_for(settings.site.lang)
    home = site.root_url + "/"
    return {
        "lang": site.lang,
        "t": labels,
        "subject": subject,
        "preheader": " / ".join(view.title for view in views[:3]),
        "site": {"title": site.title, "url": home, "description": site.description},
        "edition": {
            "number": number,
            "heading": labels.heading(number),
            "date": format_date(cutoff.astimezone(site.tz).date(), site.lang),
            "count": labels.count(len(views) + omitted),
        },
        "posts": views,
        "more": {"count": omitted, "label": labels.more(omitted), "url": home} if omitted else None,
        "reason": labels.reason(site.title, settings.web.base_url),
        "postal_address": [line.strip() for line in settings.digest.postal_address.splitlines()],
        "unsubscribe_url": UNSUBSCRIBE_URL,
        "preferences_url": PREFERENCES_URL,
        "subscriber_name": SUBSCRIBER_NAME,
    }


def _view(post: Post, settings: Settings, cut: int = 0) -> PostView:
    """``post`` as shown; ``cut``: its title and excerpt cut to that many characters."""
    labels = labels_for(settings.site.lang)
    return PostView(
        title=_shortened(post.title, cut),
        url=post.url,
        date=format_date(post.date.astimezone(settings.site.tz).date(), settings.site.lang),
        categories=post.categories[: cut // 10] if cut else post.categories,
        excerpt=_shortened(post.excerpt, cut),
        minutes=labels.minutes(reading_minutes(post, settings.site.lang)),
    )


def _shortened(text: str, cut: int) -> str:
    return text if not cut or len(text) <= cut else text[: cut - 1].rstrip() + "…"


def _inline(html: str) -> str:
    """Copy the stylesheet into ``style`` attributes; keep ``<style>`` for ``@media``."""
    from premailer import Premailer  # cssutils is slow to import; only senders need it

    premailer = Premailer(
        html,
        keep_style_tags=True,  # @media rules cannot be inlined; they must stay in <style>
        strip_important=False,  # dark-mode rules need !important to beat inline styles
        disable_validation=True,
        cssutils_logging_level=logging.CRITICAL,
        allow_network=False,
        allow_loading_external_files=False,
    )
    result: str = premailer.transform()
    return result
