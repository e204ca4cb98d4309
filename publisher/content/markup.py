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
from collections.abc import Callable
from functools import lru_cache
from html import unescape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

__all__ = ["markdown_to_text", "python_renderer", "render_markdown", "strip_xml_illegal"]

# XML 1.0 §2.2 Char production: everything else must go, or the feed is not XML.
_XML_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
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


@lru_cache(maxsize=1)
def _body_renderer() -> Callable[[str], str]:
    """markdown-it's Rust port when installed (same output, ~10x faster), else markdown-it-py.

    Bodies are most of a cold build's time; tests check that both engines give
    identical HTML for every fixture, example and customer post.
    """
    try:
        import markdown_it_pyrs
    except ImportError:  # pragma: no cover - the pure-Python engine is the reference
        return python_renderer()
    engine = markdown_it_pyrs.MarkdownIt("commonmark").enable_many(["table", "strikethrough"])

    def render(text: str) -> str:
        try:
            return _final_newline(engine.render(text))
        except BaseException as exc:
            # markdown-it-pyrs 0.4 panics on some input ("[`" unclosed), and pyo3
            # raises a panic as a BaseException: that text goes to the reference engine.
            if not _is_rust_panic(exc):
                raise
        return python_renderer()(text)

    return render


def _is_rust_panic(exc: BaseException) -> bool:
    """Whether ``exc`` is pyo3's PanicException (its module cannot be imported to name it)."""
    kind = type(exc)
    return kind.__module__ == "pyo3_runtime" and kind.__name__ == "PanicException"


def python_renderer() -> Callable[[str], str]:
    """markdown-it-py, the reference engine."""
    engine = _markdown()
    return lambda text: _final_newline(engine.render(text))


def _final_newline(html: str) -> str:
    # The two engines differ only here: after a raw HTML block ending the input.
    return html if html.endswith("\n") or not html else html + "\n"


def render_markdown(text: str, base_url: str) -> str:
    """Render a post body to sanitised HTML with links absolute against ``base_url``."""
    import nh3

    html = _body_renderer()(strip_xml_illegal(text))
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

    Rendered by the same engine as bodies, then every tag is stripped (raw
    ``<script>``/``<style>`` with its content) and entities are decoded.

    >>> markdown_to_text("A **bold** [link](https://x.org) &amp; <b>tag</b>\\nnext")
    'A bold link & tag next'
    """
    import nh3

    html = _body_renderer()(strip_xml_illegal(text))
    plain = unescape(nh3.clean(html, tags=set(), clean_content_tags={"script", "style"}))
    return " ".join(plain.split())
