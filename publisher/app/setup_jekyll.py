"""What ``publisher init`` changes in a Jekyll site's own files, decided on text: no file I/O.

``.gitignore`` gets one line for publisher's state folder; ``_config.yml``'s
``exclude`` gets ``publisher.toml``. Both are edited as text, so the author's
comments, order and layout survive, in the file's own line endings; a file
already saying it is left alone (``None``: nothing to write).

How Jekyll 4.3 reads these (``configuration.rb``, ``entry_filter.rb``):

- a name beginning with ``.``, ``_``, ``#`` or ``~`` is never copied unless
  ``include`` lists it, so the state folder ``.publisher/`` needs no
  ``exclude`` (and ``exclude`` could not help if ``include`` listed it:
  ``include`` wins). ``publisher.toml`` is copied like any file unless excluded;
- an ``exclude`` entry matches as a glob or as a prefix of the path;
- its default excludes (``node_modules``, ``vendor/bundle/``…) are added to
  whatever ``exclude`` says, but Jekyll 3 (GitHub Pages) *replaces* them with
  the list given. So a new ``exclude`` lists them too: adding one never
  publishes what was skipped before.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from publisher.errors import ConfigError

__all__ = ["DEFAULT_EXCLUDES", "ExcludeEdit", "add_to_exclude", "add_to_gitignore", "published"]

DEFAULT_EXCLUDES = (
    ".sass-cache",
    ".jekyll-cache",
    "gemfiles",
    "Gemfile",
    "Gemfile.lock",
    "node_modules",
    "vendor/bundle/",
    "vendor/cache/",
    "vendor/gems/",
    "vendor/ruby/",
)
"""Jekyll 4.3's ``Configuration::DEFAULT_EXCLUDES``."""

_GITIGNORE_COMMENT = "# publisher's state: database, link secret, .eml outbox (never commit it)"
_NEW_EXCLUDE_COMMENT = (
    "# Added by `publisher init`: Jekyll's default excludes (Jekyll 3 drops them\n"
    "# once exclude is set), then publisher's settings, which Jekyll would publish."
)
_KEY_LINE = re.compile(r"""^(?:exclude|"exclude"|'exclude')[ \t]*:(?P<rest>.*)$""", re.M)
_BARE = re.compile(r"[ \t]*(?:#.*)?\r?")


def add_to_gitignore(text: str | None, entry: str) -> str | None:
    """``text`` (``None``: no file) with a line ignoring the folder ``entry``; ``None`` if one does.

    >>> add_to_gitignore("_site/\\n", ".publisher/")[-37:]
    'outbox (never commit it)\\n.publisher/\\n'
    >>> add_to_gitignore("/.publisher\\n", ".publisher/") is None
    True
    """
    name = entry.strip("/")
    same = {f"{lead}{name}{tail}" for lead in ("", "/") for tail in ("", "/", "/*", "/**")}
    lines = (text or "").splitlines()
    if any(line.strip() in same for line in lines):
        return None
    newline = _newline(text or "")
    start = (text or "") + (newline if text and not text.endswith("\n") else "")
    gap = newline if start.strip() else ""
    return f"{start}{gap}{_GITIGNORE_COMMENT}{newline}{name}/{newline}"


def published(name: str, exclude: Sequence[Any], include: Sequence[Any]) -> bool:
    """Whether Jekyll copies the top-level file or folder ``name`` into ``_site/``."""
    if _matches(include, name):
        return True
    if name[:1] in (".", "_", "#", "~") or name.endswith("~"):
        return False
    return not _matches([p for p in exclude if p not in include], name)


def _matches(patterns: Sequence[Any], name: str) -> bool:
    for pattern in patterns:
        if not isinstance(pattern, str):
            continue
        pattern = pattern.lstrip("/")
        if fnmatch.fnmatchcase(name, pattern) or name.startswith(pattern) or pattern == name + "/":
            return True
    return False


@dataclass(frozen=True)
class ExcludeEdit:
    """The new text of ``_config.yml`` (``None``: unchanged), the entries it adds, and what
    ``exclude`` cannot keep out (``include`` lists it)."""

    text: str | None
    added: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def add_to_exclude(text: str, entries: Sequence[str], where: str) -> ExcludeEdit:
    """``text`` of ``_config.yml`` with ``entries`` in its ``exclude``, as far as Jekyll needs them.

    ``where`` names the file in errors. A value Jekyll would refuse (a string,
    a mapping) or a layout this edit cannot be sure of (an alias, a tag, two
    ``exclude`` keys) raises :class:`ConfigError` naming the line: nothing is
    guessed, and the author adds the entry by hand.
    """
    data = _parse(text)
    current = data.get("exclude")
    include = data.get("include")
    include = include if isinstance(include, list) else []
    if current is not None and not isinstance(current, list):
        kind = "a string" if isinstance(current, str) else f"a {type(current).__name__}"
        raise ConfigError(
            f"{where}:{_key_line(text, where)}",
            f"exclude is {kind} ({current!r}), but Jekyll needs a list: write it as"
            f" exclude: [{current}] (Jekyll refuses to build otherwise), then run init again",
        )
    warnings = tuple(
        f"{where}: include lists {e}, so Jekyll publishes it whatever exclude says:"
        " remove it from include"
        for e in entries
        if _matches(include, e)
    )
    missing = tuple(
        e for e in entries if not _matches(include, e) and published(e, current or [], include)
    )
    if not missing:
        return ExcludeEdit(None, (), warnings)
    items = (*DEFAULT_EXCLUDES, *missing) if current is None else missing
    edited = _insert(text, items, where)
    _verify(data, edited, [*(current or []), *items], where)
    return ExcludeEdit(edited, missing, warnings)


def _parse(text: str) -> dict[str, Any]:
    try:
        data = yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return {}  # the settings loader has already named the line; only an edit's check lands here
    return data if isinstance(data, dict) else {}


def _insert(text: str, items: Sequence[str], where: str) -> str:
    keys = list(_KEY_LINE.finditer(text))
    if len(keys) > 1:
        raise ConfigError(
            f"{where}:{_line_of(text, keys[1].start())}",
            "exclude is set twice; keep one, then run init again",
        )
    if not keys:
        return _append_block(text, items)
    key = keys[0]
    rest = key["rest"].split(" #")[0].split("\t#")[0].strip()
    if rest.startswith("["):
        return _insert_flow(text, key.start("rest") + key["rest"].index("["), items, where)
    if _BARE.fullmatch(key["rest"]):
        return _insert_block(text, key.end(), items)
    raise ConfigError(
        f"{where}:{_line_of(text, key.start())}",
        f"cannot add {', '.join(items)} to this exclude ({rest}): add it by hand",
    )


def _append_block(text: str, items: Sequence[str]) -> str:
    newline = _newline(text)
    start = text + (newline if text and not text.endswith("\n") else "")
    gap = newline if start.strip() else ""
    block = "".join(f"  - {item}{newline}" for item in items)
    comment = _NEW_EXCLUDE_COMMENT.replace("\n", newline)
    return f"{start}{gap}{comment}{newline}exclude:{newline}{block}"


def _insert_block(text: str, key_end: int, items: Sequence[str]) -> str:
    """After the last item of the block list below ``exclude:`` (comments and blanks kept)."""
    newline = _newline(text)
    lines = text[key_end:].split("\n")
    offset = key_end + len(lines[0]) + 1
    insert_at, indent = key_end + len(lines[0]), None
    for line in lines[1:]:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            if not (line[:1].isspace() or line.startswith("-")) or stripped in ("---", "..."):
                break
            if indent is None:
                indent = line[: len(line) - len(line.lstrip())]
            insert_at = offset + len(line)
        offset += len(line) + 1
    lead = indent if indent is not None else "  "
    block = "".join(f"{newline}{lead}- {item}" for item in items)
    body = text[:insert_at].removesuffix("\r")
    tail = text[insert_at:]
    if text[:insert_at].endswith("\r"):
        tail = "\r" + tail
    elif insert_at >= len(text):
        tail = newline
    return body + block + tail


def _insert_flow(text: str, start: int, items: Sequence[str], where: str) -> str:
    """Before the ``]`` closing the flow list that opens at ``start``."""
    last, close = _scan_flow(text, start)
    if close < 0:
        raise ConfigError(f"{where}:{_line_of(text, start)}", "exclude's [ is never closed")
    joined = ", ".join(items)
    before = text[last]
    lead = "" if before == "[" else " " if before == "," else ", "
    return f"{text[: last + 1]}{lead}{joined}{text[last + 1 :]}"


def _scan_flow(text: str, start: int) -> tuple[int, int]:
    """(index of the last significant character before the closing ``]``, index of that ``]``)."""
    depth, i, last, quote = 0, start, start, ""
    while i < len(text):
        char = text[i]
        if quote:
            if char == quote and not (quote == '"' and text[i - 1] == "\\"):
                quote = ""
            last = i
        elif char in "'\"":
            quote, last = char, i
        elif char == "#" and text[i - 1] in " \t\n":
            i = text.find("\n", i)
            if i < 0:
                break
            continue
        elif char in "[{":
            depth, last = depth + 1, i
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return last, i
            last = i
        elif not char.isspace():
            last = i
        i += 1
    return last, -1


def _verify(before: Mapping[str, Any], text: str, expected: list[Any], where: str) -> None:
    """The edit changed ``exclude`` only, to exactly ``expected``; else nothing is written."""
    after = _parse(text)
    others_kept = {k: v for k, v in before.items() if k != "exclude"} == {
        k: v for k, v in after.items() if k != "exclude"
    }
    if not (others_kept and after.get("exclude") == expected):
        raise ConfigError(
            f"{where}:{_key_line(text, where)}",
            f"could not add {expected[-1]} to exclude without changing something else:"
            " add it by hand",
        )


def _key_line(text: str, where: str) -> int:
    found = _KEY_LINE.search(text)
    return _line_of(text, found.start()) if found else 1


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"
