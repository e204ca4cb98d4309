"""The two languages publisher writes in, decided in one place, and its word tables.

A site whose ``lang`` starts with ``ja`` (``ja``, ``ja-JP``, ``ja_JP``) gets
Japanese; every other site gets English. Fixed words live in ``strings.toml``
files with an ``[en]`` and a ``[ja]`` table, one per templates folder.

>>> language("ja-JP"), language("en-GB"), language("")
('ja', 'en', 'en')
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Literal

__all__ = ["Language", "language", "word_table"]

Language = Literal["ja", "en"]


def language(lang: str) -> Language:
    """The language publisher writes for a site whose ``lang`` is ``lang``."""
    return "ja" if lang.strip().lower().startswith("ja") else "en"


def word_table(path: Path, lang: str) -> dict[str, str]:
    """The ``[ja]`` or ``[en]`` table of the ``strings.toml`` at ``path``, read once."""
    return _tables(path)[language(lang)]


@functools.lru_cache(maxsize=16)
def _tables(path: Path) -> dict[str, dict[str, str]]:
    with path.open("rb") as handle:
        return tomllib.load(handle)
