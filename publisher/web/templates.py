"""What the HTML edges share: a Jinja environment and the fixed words of a templates folder.

The subscriber pages (:mod:`publisher.web`) and the editors' console
(:mod:`publisher.web.console`) each keep their templates and a ``strings.toml``
(``[en]`` and ``[ja]`` tables) in a folder of their own; this loads them once.

>>> folder = PageTemplates(template_folder("web"))      # doctest: +SKIP
>>> folder.words("ja-JP")["subscribe_button"]                     # doctest: +SKIP
'登録する'
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from publisher.words import word_table

__all__ = ["PageTemplates"]


class PageTemplates:
    """The templates and strings of one folder, read once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def words(self, lang: str) -> dict[str, str]:
        """The strings for a site language: Japanese for ``ja…``, else English."""
        return word_table(self.folder / "strings.toml", lang)

    def render(self, template: str, /, **values: object) -> str:
        """Render ``template`` (autoescaped; an undefined value is an error)."""
        return self._environment.get_template(template).render(**values)

    @functools.cached_property
    def _environment(self) -> jinja2.Environment:
        return jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.folder),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
