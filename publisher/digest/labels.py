"""The digest's fixed words in Japanese and English, and dates written the local way.

The language is the site's (``site.lang``): anything starting with ``ja`` is
Japanese, everything else English. Dates are formatted by hand rather than
with ``strftime("%B")``, whose month names follow the process locale.

>>> from datetime import date
>>> format_date(date(2025, 9, 21), "ja"), format_date(date(2025, 9, 21), "en")
('2025年9月21日', 'September 21, 2025')
>>> labels_for("ja-JP").minutes(8), labels_for("en").minutes(8)
('約8分', '8 min read')
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from publisher.words import language

__all__ = [
    "ConfirmLabels",
    "Labels",
    "confirm_labels_for",
    "format_date",
    "is_japanese",
    "labels_for",
]

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


def is_japanese(lang: str) -> bool:
    """Whether the site writes in Japanese (see :func:`publisher.words.language`)."""
    return language(lang) == "ja"


def format_date(day: date, lang: str) -> str:
    """``2025年9月21日`` in Japanese, ``September 21, 2025`` otherwise."""
    if is_japanese(lang):
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


JAPANESE = Labels(
    lang="ja",
    read_more="続きを読む",
    unsubscribe="配信停止",
    preferences="配信設定の変更",
    issue="第{number}号",
    new_posts="新着記事 {count}件",
    why="このメールは、{url} で「{site}」のニュースレターに登録された方にお送りしています。",
    more_one="他{count}件の記事",
    more_many="他{count}件の記事",
    minutes_text="約{count}分",
    separator="・",
)

ENGLISH = Labels(
    lang="en",
    read_more="Read more",
    unsubscribe="Unsubscribe",
    preferences="Manage preferences",
    issue="Issue {number}",
    new_posts="{count} new post{s}",
    why="You receive this because you subscribed to {site} at {url}.",
    more_one="{count} more post",
    more_many="{count} more posts",
    minutes_text="{count} min read",
    separator=" · ",
)


def labels_for(lang: str) -> Labels:
    """The labels for the site's language."""
    return JAPANESE if is_japanese(lang) else ENGLISH


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


CONFIRM_JAPANESE = ConfirmLabels(
    lang="ja",
    subject="【{site}】ニュースレター登録のご確認",
    heading="登録の確認",
    intro="「{site}」のニュースレターにご登録いただき、ありがとうございます。"
    "下のボタンを押して、登録を完了してください。",
    button="登録を完了する",
    fallback="ボタンが使えない場合は、次のURLをブラウザで開いてください。",
    link="次のURLを開いて、登録を完了してください。",
    expires="このリンクの有効期間は{days}日です。",
    ignore="お心当たりのない場合は、このメールを破棄してください。"
    "登録は完了せず、今後メールをお送りすることもありません。",
)

CONFIRM_ENGLISH = ConfirmLabels(
    lang="en",
    subject="Confirm your subscription to {site}",
    heading="Confirm your subscription",
    intro="Thank you for subscribing to the {site} newsletter."
    " Press the button below to confirm your address.",
    button="Confirm subscription",
    fallback="If the button does not work, open this link in your browser:",
    link="Open this link to confirm your subscription:",
    expires="The link works for {days} days.",
    ignore="If you did not ask for this, ignore this email:"
    " you will not be subscribed and will not hear from us again.",
)


def confirm_labels_for(lang: str) -> ConfirmLabels:
    """The confirmation email's words for the site's language."""
    return CONFIRM_JAPANESE if is_japanese(lang) else CONFIRM_ENGLISH
