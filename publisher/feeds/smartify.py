"""Jekyll's ``smartify``, ``strip_html`` and ``normalize_whitespace``, for jekyll-feed titles.

jekyll-feed writes a title as ``title | smartify | strip_html |
normalize_whitespace``. ``smartify`` is kramdown's SmartyPants parser (2.4):
straight quotes become curly ones by its context rules, ``--`` / ``---`` /
``...`` / ``<<`` / ``>>`` become – — … « », entities are kept or decoded, and
the rest is HTML-escaped. Ruby's ``\\w`` and ``\\s`` are ASCII-only (its ``\\b`` is not),
hence ``re.ASCII``; rules match against the rest of the text, as Ruby's
``StringScanner`` does.

>>> smartify("Don't panic -- it's \\"fine\\"...")
'Don’t panic – it’s “fine”…'
>>> smartify("R&D <b>now</b>")
'R&amp;D <b>now</b>'
>>> normalize_whitespace(strip_html(smartify("  R&amp;D\\n<b>now</b> ")))
'R&amp;D now'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.entities import name2codepoint

__all__ = ["normalize_whitespace", "smartify", "strip_html"]

_A = re.ASCII
_NAME = r"[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?"
_SPAN_START = re.compile(
    rf"""(?=[^\\]?["']|&|--|\.\.\.|(?:\\| )?(?:<<|>>)|<(?:{_NAME}|!--|/))""", _A
)
_PUNCT = r"""[!"#$%'()*+,\-./:;<=>?@\[\\\]^_`{|}~]"""
_QUOTE_RULES: tuple[tuple[re.Pattern[str], tuple[int | str, ...]], ...] = tuple(
    (re.compile(pattern, _A | re.M | re.S), substs)
    for pattern, substs in (
        (r"""("|')(?=[_*]{1,2}\S)""", ("lquote1",)),
        (rf"""("|')(?={_PUNCT}(?!\.\.)(?u:\B))""", ("rquote1",)),
        (r"""(\s?)"'(?=\w)""", (1, "“", "‘")),
        (r"""(\s?)'"(?=\w)""", (1, "‘", "“")),
        (r"""(\s?)'(?=\d\ds)""", (1, "’")),
        (r"""(\s)('|")(?=\w)""", (1, "lquote2")),
        (r"""([^ \\\t\r\n\[{(-])('|")""", (1, "rquote2")),
        (r"""("|')(?=\s|s(?u:\b)|$)""", ("rquote1",)),
        (r"""(.?)'""", (1, "‘")),
        (r"""(.?)\"""", (1, "“")),
    )
)
_CURLY = {"l": {'"': "“", "'": "‘"}, "r": {'"': "”", "'": "’"}}
_ENTITY = re.compile(r"&([\w:][\-\w.:]*);|&#(\d+);|&\#x([0-9a-fA-F]+);", _A)
# kramdown's table: HTML 4's, plus apos and vellip, with lang/rang and lceil/rceil swapped.
_ENTITIES = {
    **name2codepoint,
    "apos": 39,
    "vellip": 8942,
    "lang": 9002,
    "rang": 9001,
    "lceil": 8969,
    "rceil": 8968,
}
_TYPOGRAPHIC = re.compile(r"---|--|\.\.\.|\\<<|\\>>|<< | >>|<<|>>")
_SYMBOLS = {
    "---": "—",
    "--": "–",
    "...": "…",
    "\\<<": "&lt;&lt;",
    "\\>>": "&gt;&gt;",
    "<< ": "«\u00a0",
    " >>": "\u00a0»",
    "<<": "«",
    ">>": "»",
}
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_CLOSE = re.compile(rf"</({_NAME})\s*>", _A)
_TAG = re.compile(
    rf"""<({_NAME})\s*((?:\s+{_NAME}(?:\s*=\s*(?:\w+|("|').*?\3))?)*)\s*(/)?>""", _A | re.S
)
_BLOCK_TAGS = frozenset(
    re.findall(
        r"\w+",
        "address article aside applet body blockquote dd details div dl fieldset figure"
        " figcaption footer form h1 h2 h3 h4 h5 h6 header hgroup hr html head iframe legend"
        " menu li main map nav ol optgroup option p pre section summary table tbody td th"
        " thead tfoot tr ul",
    )
)
_STRIP_BLOCKS = re.compile(r"<script.*?</script>|<!--.*?-->|<style.*?</style>", re.S)
_STRIP_TAGS = re.compile(r"<.*?>", re.S)
_RUBY_SPACE = re.compile(r"[ \t\r\n\f\v]+")

Parsed = tuple[str, int] | None


def smartify(text: str) -> str:
    """Jekyll's ``smartify``: the HTML kramdown's SmartyPants makes of ``text``."""
    source = re.sub(r"\r\n?", "\n", text)
    source = source.removesuffix("\n") + "\n"
    out: list[str] = []
    open_tags: list[str] = []
    pos = _block_html(source, out)
    while pos < len(source):
        found = _SPAN_START.search(source, pos)
        if found is None:
            out.append(_escape(source[pos:]))
            break
        out.append(_escape(source[pos : found.start()]))
        pos = found.start()
        rest = source[pos:]
        parsed = _quote(rest) or _entity(rest) or _typographic(rest)
        parsed = parsed or _html(rest, open_tags)
        piece, used = parsed or (_escape(rest[0]), 1)
        out.append(piece)
        pos += used
    return "".join(out).removesuffix("\n")


def strip_html(html: str) -> str:
    """Liquid's ``strip_html``: scripts, styles, comments and every ``<…>`` removed."""
    return _STRIP_TAGS.sub("", _STRIP_BLOCKS.sub("", html))


def normalize_whitespace(text: str) -> str:
    """Jekyll's ``normalize_whitespace``: runs of ASCII white space as one space, trimmed."""
    return _RUBY_SPACE.sub(" ", text).strip(" \t\r\n\f\v\0")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _quote(rest: str) -> Parsed:
    if not re.match(r"""[^\\]?["']""", rest):
        return None
    for pattern, substs in _QUOTE_RULES:
        match = pattern.match(rest)
        if match is None:
            continue
        pieces = [_quote_piece(match, subst) for subst in substs]
        return "".join(pieces), match.end()
    return None


def _quote_piece(match: re.Match[str], subst: int | str) -> str:
    if isinstance(subst, int):
        return _escape(match[subst] or "")
    if subst in ("lquote1", "rquote1", "lquote2", "rquote2"):
        return _CURLY[subst[0]][match[int(subst[-1])]]
    return subst


def _entity(rest: str) -> Parsed:
    match = _ENTITY.match(rest)
    if match is None:
        return None
    name, decimal, hexadecimal = match.groups()
    if name is not None and name not in _ENTITIES:
        return "&amp;" + _escape(match[0][1:]), match.end()
    if name is not None:
        point = _ENTITIES[name]
    else:
        point = int(decimal, 10) if decimal else int(hexadecimal, 16)
    if not _xml_char(point) or chr(point) in "<>&":
        return match[0], match.end()
    return chr(point), match.end()


def _xml_char(point: int) -> bool:
    return point in (0x9, 0xA, 0xD) or 0x20 <= point <= 0xD7FF or 0xE000 <= point <= 0x10FFFF


def _typographic(rest: str) -> Parsed:
    match = _TYPOGRAPHIC.match(rest)
    return (_SYMBOLS[match[0]], match.end()) if match else None


def _block_html(source: str, out: list[str]) -> int:
    """A title that starts with a block tag (``<div>``): raw HTML up to its end tag, no quotes.

    Returns where span parsing goes on.
    """
    match = _TAG.match(source.lstrip(" "))
    if match is None or match[1].lower() not in _BLOCK_TAGS:
        return 0
    name = re.escape(match[1])
    end = re.search(rf"</{name}\s*>", source, re.I)
    stop = end.end() if end else len(source)
    raw = source[:stop]
    pieces = re.split(r"(<!--.*?-->|</?[A-Za-z][^<>]*>)", raw, flags=re.S)
    for i, piece in enumerate(pieces):
        out.append(piece if i % 2 else _RAW_TEXT.sub(_raw_escape, piece))
    return stop


_RAW_TEXT = re.compile(r"&(?:[A-Za-z_:][\w.\-:]*|#\d+|#x[0-9a-fA-F]+);|[<>&]")


def _raw_escape(match: re.Match[str]) -> str:
    return _escape(match[0]) if len(match[0]) == 1 else match[0]


def _html(rest: str, open_tags: list[str]) -> Parsed:
    """Span HTML: tags kept as they are (``strip_html`` removes them); stray ones escaped."""
    if not rest.startswith("<"):
        return None
    handlers: tuple[Callable[[str, list[str]], Parsed], ...] = (_comment, _close_tag, _open_tag)
    for handle in handlers:
        parsed = handle(rest, open_tags)
        if parsed is not None:
            return parsed
    return None


def _comment(rest: str, open_tags: list[str]) -> Parsed:
    match = _COMMENT.match(rest)
    return (match[0], match.end()) if match else None


def _close_tag(rest: str, open_tags: list[str]) -> Parsed:
    match = _CLOSE.match(rest)
    if match is None:
        return None
    if match[1].lower() in open_tags:
        while open_tags.pop() != match[1].lower():
            pass
        return match[0], match.end()
    return _escape(match[0]), match.end()


def _open_tag(rest: str, open_tags: list[str]) -> Parsed:
    match = _TAG.match(rest)
    if match is None:
        return None
    if match[1].lower() in _BLOCK_TAGS:
        return _escape(match[0]), match.end()
    if not match[4]:
        open_tags.append(match[1].lower())
    return match[0], match.end()
