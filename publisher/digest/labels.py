"""The digest's fixed words in Japanese and English, and dates written the local way.

The words are in ``templates/digest/strings.toml`` and
``templates/email/strings.toml``, like every other page's; these classes are
their typed view, with the few rules words need (plurals, placeholders). The
language is the site's (:func:`publisher.words.language`). Dates are formatted by hand rather than
with ``strftime("%B")``, whose month names follow the process locale.

>>> from datetime import date
>>> format_date(date(2025, 9, 21), "ja"), format_date(date(2025, 9, 21), "en")
('2025年9月21日', 'September 21, 2025')
>>> labels_for("ja-JP").minutes(8), labels_for("en").minutes(8)
('約8分', '8 min read')
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from publisher.files import template_folder
from publisher.words import language, word_table

__all__ = [
    "ConfirmLabels",
    "Labels",
    "confirm_labels_for",
    "format_date",
    "labels_for",
]

_TEMPLATES = template_folder()
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_date(day: date, lang: str) -> str:
    """``2025年9月21日`` in Japanese, ``September 21, 2025`` otherwise."""
    if language(lang) == "ja":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


@dataclass(frozen=True)
class Labels:
    """The fixed strings of one language; templates read them as ``t.<name>``."""

    lang: str
    read_more: str
    unsubscribe: str
    preferences: str
    issue: str
    """``{number}`` → the edition number."""
    new_posts: str
    """``{count}`` → how many posts this edition carries."""
    why: str
    """``{site}`` and ``{url}`` → the site's name and the subscribe page."""
    more_one: str
    more_many: str
    """``{count}`` → how many posts were left out."""
    minutes_text: str
    separator: str

    def minutes(self, count: int) -> str:
        """``約8分`` / ``8 min read``."""
        return self.minutes_text.format(count=count)

    def more(self, count: int) -> str:
        """``他3件の記事`` / ``3 more posts``."""
        return (self.more_one if count == 1 else self.more_many).format(count=count)

    def heading(self, number: int) -> str:
        """``第3号`` / ``Issue 3``."""
        return self.issue.format(number=number)

    def count(self, count: int) -> str:
        """``新着記事 5件`` / ``5 new posts``."""
        return self.new_posts.format(count=count, s="" if count == 1 else "s")

    def reason(self, site: str, url: str) -> str:
        """Why the reader gets this mail (CAN-SPAM / 特定電子メール法 ask for it)."""
        return self.why.format(site=site, url=url)


@functools.lru_cache(maxsize=4)
def labels_for(lang: str) -> Labels:
    """The labels for the site's language, from ``templates/digest/strings.toml``."""
    return Labels(lang=language(lang), **word_table(_TEMPLATES / "digest" / "strings.toml", lang))


@dataclass(frozen=True)
class ConfirmLabels:
    """The words of the confirmation email (double opt-in); ``{site}`` → the site's name."""

    lang: str
    subject: str
    heading: str
    intro: str
    button: str
    fallback: str
    """Under the button, for clients that show no buttons."""
    link: str
    """Before the link in the text part."""
    expires: str
    """How long the link works; ``{days}`` → ``[web] confirm_days``."""
    ignore: str

    def format(self, text: str, site: str, days: int = 0) -> str:
        """``text`` with the site's name (and the link's days) put in."""
        return text.format(site=site, days=days)


@functools.lru_cache(maxsize=4)
def confirm_labels_for(lang: str) -> ConfirmLabels:
    """The confirmation email's words for the site's language (``templates/email/strings.toml``)."""
    words = word_table(_TEMPLATES / "email" / "strings.toml", lang)
    return ConfirmLabels(lang=language(lang), **words)
