"""Excerpts: Jekyll's rule, cut at a sentence end, CJK-aware.

Jekyll's excerpt is the body up to ``excerpt_separator`` (the first blank line
by default). Many Japanese blogs, the first customer's among them, repeat the
title as the body's first line, so a first paragraph that only repeats the
title is skipped. The plain text is then cut to ``length`` characters at the
last sentence end (``。．！？!?.``) that fits, else at the last word boundary,
never inside a word. Japanese has no spaces, so characters are counted and any
boundary between two CJK characters is a word boundary.

>>> cut_excerpt("一文目です。二文目はとても長いのでここでは切れません", 10)
'一文目です。'
>>> cut_excerpt("The quick brown fox jumps over the lazy dog", 18)
'The quick brown…'
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

from publisher.content.markup import markdown_to_text

__all__ = ["cut_excerpt", "derive_excerpt", "first_paragraph", "has_first_paragraph"]

_SENTENCE_END = re.compile(r"[。．！？!?](?:[」』）)\"”’]*)|\.(?=[\s\"”’)]|$)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_ELLIPSIS = "…"


def derive_excerpt(body: str, title: str, separator: str, length: int) -> str:
    """The plain-text excerpt of a post that has no ``excerpt`` in its front matter."""
    return cut_excerpt(markdown_to_text(first_paragraph(body, title, separator)), length)


def first_paragraph(body: str, title: str, separator: str) -> str:
    """The Markdown before ``separator``, after skipping a first line that repeats the title.

    >>> first_paragraph("Hello\\n\\nFirst para.\\n\\nSecond.", "Hello", "\\n\\n")
    'First para.'
    """
    head, _, _ = _after_title(body, title).partition(separator)
    return head.strip()


def has_first_paragraph(body: str, title: str, separator: str) -> bool:
    """Whether ``body`` (maybe only the start of a post) holds its whole first paragraph."""
    return separator in _after_title(body, title)


def _after_title(body: str, title: str) -> str:
    text = body.lstrip("\n")
    first_line, _, rest = text.partition("\n")
    if rest.startswith("\n") and _repeats_title(first_line, title):
        text = rest.lstrip("\n")
    return text


def _repeats_title(line: str, title: str) -> bool:
    a, b = _normalize(_HEADING.sub("", line)), _normalize(title)
    if not a or not b:
        return False
    return a == b or SequenceMatcher(None, a, b).ratio() >= 0.8


def _normalize(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).strip("#*_").casefold()


def cut_excerpt(text: str, length: int) -> str:
    """Cut plain ``text`` to at most ``length`` characters (plus "…" when cut mid-sentence)."""
    if len(text) <= length:
        return text
    window = text[:length]
    ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    if ends and ends[-1] >= length // 3:
        return window[: ends[-1]].rstrip()
    return _cut_at_word(text, length - 1) + _ELLIPSIS


def _cut_at_word(text: str, length: int) -> str:
    # Step back until the cut is not inside a run of word characters of a
    # spaced script: between two CJK characters, or at a space, is fine.
    cut = length
    while cut > 0 and not _is_boundary(text[cut - 1], text[cut]):
        cut -= 1
    if cut == 0:  # one enormous word: cut it rather than return nothing
        cut = length
    return text[:cut].rstrip(" ,、，;:")


def _is_boundary(before: str, after: str) -> bool:
    if before.isspace() or after.isspace():
        return True
    return _is_cjk(before) or _is_cjk(after) or not (before.isalnum() and after.isalnum())


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x3000 <= code <= 0x30FF  # punctuation, hiragana, katakana
        or 0x3400 <= code <= 0x9FFF  # CJK ideographs
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0xAC00 <= code <= 0xD7AF  # hangul
        or 0x20000 <= code <= 0x3FFFF
    )
