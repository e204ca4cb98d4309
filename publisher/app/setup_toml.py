"""The ``publisher.toml`` that ``publisher init`` writes, as text: no file I/O.

Only the keys an editor has to look at, each with its default and the one-line
comment of ``config/publisher.example.toml`` (the lines below are copied from
it verbatim, and ``tests/test_init.py`` fails when the two differ). The
``[site]`` keys are shown commented out, marked as coming from ``_config.yml``
(publisher reads them there on every run), and ``[categories]`` proposes a
feed file name for each category of the existing posts.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from publisher.config.model import JEKYLL_KEYS
from publisher.feeds.slugs import feed_slug

__all__ = ["EXAMPLE_BLOCKS", "Proposal", "propose", "render_settings", "toml_string"]

EXAMPLE_BLOCKS: Mapping[str, str] = {
    "digest": (
        'from = ""                      # From:, e.g. "Tsumiki Notes <news@blog.example.com>";'
        " empty: the site's title at noreply@<domain>\n"
        'reply_to = ""                  # Reply-To:, if different\n'
        'subject = "{site} — {date}"    # {site}, {number}, {date}, {count} are filled in\n'
        'postal_address = ""            # the sender\'s postal address, shown in the footer'
        " (CAN-SPAM)\n"
        'schedule = "mon 09:00"         # when `publisher run` sends, in [site] timezone:'
        ' "mon 09:00",\n'
        '                               # "mon,thu 18:30", "daily 07:00" or a cron line'
        ' "0 9 * * 1"\n'
    ),
    "web": (
        'base_url = "http://127.0.0.1:8000"  # where the subscribe / unsubscribe pages are'
        " served (links in mails)\n"
    ),
    "smtp": (
        "# No host: digests are written as .eml files under <var>/outbox/<edition>/ instead.\n"
        'host = ""                      # the relay, e.g. "smtp.example.com"\n'
        "port = 587\n"
        'security = "starttls"          # "starttls", "tls" (implicit TLS, port 465) or "none"\n'
        'username = ""                  # the password comes from PUBLISHER_SMTP_PASSWORD,'
        " never from a file\n"
    ),
    "categories": (
        "# Feed file names for category names; others get a safe form of the name itself.\n"
    ),
}
"""Per section, lines of ``config/publisher.example.toml`` in its order (a subset of them)."""

_HEADER = """\
# publisher settings for {title}, written by `publisher init`.
#
# Only the keys to look at first, each with its default; every other key, its
# default and what it does: config/publisher.example.toml in publisher's
# repository. Lines starting with # are not set. Any key can also be set from
# the environment as PUBLISHER_<SECTION>__<KEY>, e.g. PUBLISHER_DIGEST__FROM.
"""
_SITE_INTRO = """\
# Read from the Jekyll site's _config.yml on every run: change them there.
# Remove the # of a line only to override _config.yml for publisher.
"""
_CATEGORY_NOTE = """\
# Proposed from the categories of the existing posts; the slug is the feed's file
# name (feeds/categories/<slug>.xml), so choose it before readers subscribe.
"""
_COMMENT_COLUMN = 40


@dataclass(frozen=True)
class Proposal:
    """A category of the existing posts, and the feed slug proposed for it (``None``: ask)."""

    name: str
    posts: int
    slug: str | None
    default: str
    """The slug publisher uses while none is configured."""


def propose(counts: Mapping[str, int]) -> tuple[Proposal, ...]:
    """A slug for every ASCII category name; the others are left to the editor.

    No library transliterates Japanese well enough to name a permanent URL
    (kanji have several readings), so a name with other characters gets none.

    >>> [(p.name, p.slug) for p in propose({"Policy": 2, "投資分析": 3, "+": 1})]
    [('+', None), ('Policy', 'policy'), ('投資分析', None)]
    """
    found = []
    for name in sorted(counts):
        default = feed_slug(name, {})
        ascii_ok = name.isascii() and re.search(r"[A-Za-z0-9]", name) is not None
        found.append(Proposal(name, counts[name], default if ascii_ok else None, default))
    return tuple(found)


def render_settings(
    site: Mapping[str, Any], from_config: Iterable[str], proposals: Sequence[Proposal]
) -> str:
    """The whole file: ``site`` holds the [site] values in force, ``from_config`` the keys
    that ``_config.yml`` sets."""
    given = set(from_config)
    title = site.get("title") or "this site"
    parts = [
        _HEADER.format(title=_comment_safe(str(title))),
        _site_section(site, given),
        *(f"[{name}]\n{EXAMPLE_BLOCKS[name]}" for name in ("digest", "web", "smtp")),
        _categories_section(proposals),
    ]
    return "\n".join(parts)


def _site_section(site: Mapping[str, Any], given: set[str]) -> str:
    lines = ["[site]", _SITE_INTRO.rstrip("\n")]
    for key in JEKYLL_KEYS:
        value = site.get(key)
        setting = f"# {key} = {toml_string(str(value if value is not None else ''))}"
        note = "from _config.yml" if key in given else "not in _config.yml: the default"
        lines.append(_with_comment(setting, note))
    return "\n".join(lines) + "\n"


def _categories_section(proposals: Sequence[Proposal]) -> str:
    lines = ["[categories]", EXAMPLE_BLOCKS["categories"].rstrip("\n")]
    if proposals:
        lines.append(_CATEGORY_NOTE.rstrip("\n"))
    taken: dict[str, str] = {}
    for proposal in proposals:
        lines.append(_category_line(proposal, taken))
    if not proposals:
        lines.append('# "投資分析" = "investment"')
    return "\n".join(lines) + "\n"


def _category_line(proposal: Proposal, taken: dict[str, str]) -> str:
    key, count = toml_string(proposal.name), _posts(proposal.posts)
    if proposal.slug is None:
        hint = f"fill in a slug (a-z, 0-9, -); until then feeds/categories/{proposal.default}.xml"
        return _with_comment(f'# {key} = ""', f"{count}; {hint}")
    other = taken.setdefault(proposal.slug, proposal.name)
    shared = f"; the same feed as {toml_string(other)}" if other != proposal.name else ""
    return _with_comment(f"{key} = {toml_string(proposal.slug)}", count + shared)


def _posts(count: int) -> str:
    return f"{count} post" if count == 1 else f"{count} posts"


def _with_comment(setting: str, note: str) -> str:
    """``setting``, then ``# note`` at the comment column (wide CJK characters count twice)."""
    width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in setting)
    return f"{setting}{' ' * max(1, _COMMENT_COLUMN - width)}# {_comment_safe(note)}"


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string (JSON's escapes are TOML's, but for DEL).

    >>> toml_string('投資 "分析"\\n')
    '"投資 \\\\"分析\\\\"\\\\n"'
    """
    encoded = json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
    return re.sub("[\ud800-\udfff]", "\ufffd", encoded)


def _comment_safe(text: str) -> str:
    """A comment ends at the line's end, and TOML allows no control character in it but tab."""
    return re.sub(r"[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]", "\ufffd", text)
