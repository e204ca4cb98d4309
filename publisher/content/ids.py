"""Jekyll's slugs, ``tag:`` URIs and IRI percent-encoding.

>>> slugify("Hello, World!")
'hello-world'
>>> tag_uri("blog.example.com", "2025-09-21", "韓国ai")
'tag:blog.example.com,2025-09-21:%E9%9F%93%E5%9B%BDai'
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

__all__ = ["iri_to_uri", "slugify", "tag_uri"]

# Jekyll's Utils.slugify keeps Unicode letters, marks and decimal digits (\p{L} \p{M}
# \p{Nd}), and in "pretty" mode also these: the rest, in runs, becomes one "-".
_PRETTY_KEPT = "._~!$&'()+,;=@"
_CUT = "\x00"
_RUNS = re.compile(_CUT + "+")


class _Kept(dict[int, str]):
    """A ``str.translate`` table filled on demand: a kept character maps to itself, others to NUL.

    Python's ``\\w`` is not Jekyll's class (it has ``_``, ``①``, ``Ⅳ``; it lacks
    combining marks), so each character's Unicode category decides, once.
    """

    def __init__(self, extra: str) -> None:
        super().__init__()
        self.extra = extra

    def __missing__(self, code: int) -> str:
        char = chr(code)
        category = unicodedata.category(char)
        kept = category[0] in "LM" or category == "Nd" or char in self.extra
        self[code] = value = char if kept else _CUT
        return value


_TABLES = {"default": _Kept(""), "pretty": _Kept(_PRETTY_KEPT)}


def slugify(text: str, mode: str = "default", cased: bool = False) -> str:
    """Jekyll's ``Utils.slugify`` (modes ``default`` and ``pretty``).

    Runs of characters not kept become one ``-``, then one leading and one
    trailing ``-`` are dropped; lower-cased unless ``cased``.

    >>> slugify("The _config.yml file", "pretty", cased=True)
    'The-_config.yml-file'
    >>> slugify("韓国AI、世界3位")
    '韓国ai-世界3位'
    """
    table = _TABLES["pretty" if mode == "pretty" else "default"]
    slug = _RUNS.sub("-", text.translate(table))
    slug = slug.removeprefix("-").removesuffix("-")
    return slug if cased else slug.lower()


def tag_uri(domain: str, day: str, specific: str) -> str:
    """An RFC 4151 ``tag:`` URI: ``tag:<domain>,<YYYY-MM-DD>:<specific>``."""
    return f"tag:{domain},{day}:{quote(specific, safe='/-._~!$&()*+,;=:@')}"


def iri_to_uri(iri: str) -> str:
    """Percent-encode what a URI may not hold (non-ASCII, spaces), keep the rest.

    >>> iri_to_uri("https://x.org/投資/a b.html?q=1#f")
    'https://x.org/%E6%8A%95%E8%B3%87/a%20b.html?q=1#f'
    """
    return quote(iri, safe="/:?#[]@!$&'()*+,;=-._~%")
