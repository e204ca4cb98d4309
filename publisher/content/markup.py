"""Markdown → safe HTML, and the characters XML 1.0 forbids.

One renderer for the whole product: markdown-it-py in CommonMark mode with
tables and strikethrough, raw HTML allowed, then nh3 (ammonia) removes
``<script>``, ``<style>``, event-handler attributes and ``javascript:`` URLs,
and resolves relative links against the post's own URL, because a feed
reader shows the entry far from the site (RFC 4287 §4.1.3 leaves xml:base
support to the reader, and many ignore it).

>>> render_markdown("**太字** [a](/about/)", "https://x.org/2025/01/01/p.html")
'<p><strong>太字</strong> <a href="https://x.org/about/">a</a></p>\\n'
>>> strip_xml_illegal("a\\x01b\\x0bc")
'abc'
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

__all__ = ["markdown_to_text", "render_markdown", "strip_xml_illegal"]

# XML 1.0 §2.2 Char production: everything else must go, or the feed is not XML.
_XML_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BLOCK_MARKER = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d{1,9}[.)]\s+)", re.M)
_TAG_NAME = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
_EXTRA_TAGS = {"section", "source", "video", "audio", "picture"}
_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"id", "title", "lang", "dir"},
    "a": {"href", "hreflang", "name"},
    "img": {"src", "alt", "width", "height", "loading", "srcset"},
    "th": {"style", "colspan", "rowspan", "scope"},
    "td": {"style", "colspan", "rowspan"},
    "ol": {"start", "type"},
    "code": {"class"},
    "source": {"src", "srcset", "type", "media"},
    "video": {"src", "poster", "controls", "width", "height"},
    "audio": {"src", "controls"},
    "blockquote": {"cite"},
    "time": {"datetime"},
}


def strip_xml_illegal(text: str) -> str:
    """Remove the characters XML 1.0 forbids (C0 controls but tab, CR, LF; surrogates; U+FFFE/F)."""
    return _XML_ILLEGAL.sub("", text)


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def render_markdown(text: str, base_url: str) -> str:
    """Render a post body to sanitised HTML with links absolute against ``base_url``."""
    import nh3

    html = _markdown().render(strip_xml_illegal(text))
    return str(
        nh3.clean(
            html,
            tags=nh3.ALLOWED_TAGS | _EXTRA_TAGS,
            clean_content_tags={"script", "style"},
            attributes=_ATTRIBUTES,
            link_rel=None,
            url_schemes={"http", "https", "mailto", "tel"},
            url_relative=("rewrite_with_base", base_url),
            filter_style_properties={"text-align"},
        )
    )


def markdown_to_text(text: str) -> str:
    """Markdown (one paragraph or so) → plain text: markup and tags gone, whitespace folded.

    Inline parsing only (an excerpt is a paragraph), which is several times
    cheaper than rendering and sanitising HTML; raw ``<script>``/``<style>``
    content is dropped with its tags.

    >>> markdown_to_text("A **bold** [link](https://x.org) &amp; <b>tag</b>\\nnext")
    'A bold link & tag next'
    """
    text = _BLOCK_MARKER.sub("", strip_xml_illegal(text))
    parts: list[str] = []
    skipping = ""
    for token in _markdown().parseInline(text)[0].children or ():
        kind = token.type
        if kind == "html_inline":
            tag = _TAG_NAME.match(token.content)
            if tag and tag[2].lower() in ("script", "style"):
                skipping = "" if tag[1] else tag[2].lower()
            continue
        if skipping:
            continue
        if kind in ("text", "code_inline"):
            parts.append(token.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif kind == "image":
            parts.append(token.content)
    return " ".join("".join(parts).split())
