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

from publisher.files import template_folder

__all__ = ["MESSAGES", "Language", "language", "say", "word_table"]

Language = Literal["ja", "en"]
MESSAGES = template_folder("messages") / "strings.toml"
"""What the use cases report, in words: the one catalogue the CLI, the console and the logs use."""


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


def say(key: str, lang: str = "en", /, **values: object) -> str:
    """The catalogue's sentence ``key`` in the site's language, with ``values`` filled in.

    >>> say("send_finished", "en", number=3), say("send_finished", "ja", number=3)
    ('edition 3 finished', '第3号の配信が完了しました。')
    """
    return word_table(MESSAGES, lang)[key].format(**values)
