"""Settings that change under a running ``publisher run``: notice, check, apply.

``publisher run`` is left running for weeks, and editors change the site's
``_config.yml`` (its title, its permalink style) or ``publisher.toml`` (the
digest's schedule, the feed limit). The runner looks at those two files'
size and mtime every few seconds (:func:`settings_stamp`, a ``stat`` each;
polling survives editors that save by writing a new file and renaming it)
and, when they changed, calls :func:`reload_settings`:

- invalid settings are reported (the key and what is wrong) and the old ones
  stay in force: a typo never stops the runner;
- a change of ``[database] url`` or ``[paths] var`` (the runner's lock and
  job store live there) or ``[site] posts_dir`` (the folder being watched) is
  reported and nothing is applied: that needs a restart;
- anything else is applied: the runner makes a new context with the new
  settings (sharing the open database) for the jobs that start next, then
  replans its jobs and rebuilds the feeds. A job already running finishes
  with the settings it started with; the context itself never changes.

>>> before = settings_stamp(ctx)                             # doctest: +SKIP
>>> if settings_stamp(ctx) != before:                        # doctest: +SKIP
...     change = reload_settings(ctx)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from publisher.app.context import Context
from publisher.config import Settings, find_config_file
from publisher.errors import ConfigError

__all__ = ["SettingsChange", "reload_settings", "settings_stamp"]

# The sections whose change needs a restart, with the key to name.
_RESTART = (("database", "url"), ("paths", "var"), ("site", "posts_dir"))


@dataclass(frozen=True)
class SettingsChange:
    """What a reload did: the sections that changed, or why nothing was applied."""

    changed: tuple[str, ...] = ()
    """Top-level sections whose values differ (``site``, ``digest``…), when applied."""
    error: str = ""
    """The invalid key and why, when the new settings were refused."""
    needs_restart: tuple[str, ...] = ()
    """Keys that changed but only take effect after a restart (nothing was applied)."""
    settings: Settings | None = None
    """The new settings, to apply (:meth:`Context.with_settings`), when they may be."""

    @property
    def applied(self) -> bool:
        """Whether the new settings are to be applied (``settings`` holds them)."""
        return bool(self.changed) and not self.error and not self.needs_restart


def settings_stamp(ctx: Context) -> tuple[tuple[str, int, int], ...]:
    """Size and mtime of the files the settings come from (a missing file counts too)."""
    files = [ctx.site_dir / "_config.yml", ctx.config_file or find_config_file(ctx.site_dir)]
    if ctx.config_file is None:  # a publisher.toml created later would be found
        files += [ctx.site_dir / "publisher.toml", ctx.site_dir / "config" / "publisher.toml"]
    stamp = []
    for path in dict.fromkeys(p for p in files if p is not None):
        try:
            st = os.stat(path)
        except OSError:
            stamp.append((str(path), -1, -1))
        else:
            stamp.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(stamp)


def reload_settings(ctx: Context) -> SettingsChange:
    """Read the settings again and compare them with ``ctx``'s (see the module docstring).

    Nothing is changed here: when the change may be applied, the caller makes the
    context its jobs use next with ``ctx.with_settings(change.settings)``.
    """
    try:
        new = ctx.reread_settings()
    except ConfigError as exc:
        return SettingsChange(error=str(exc))
    old = ctx.config
    restart = tuple(
        f"[{section}] {key}"
        for section, key in _RESTART
        if getattr(getattr(old, section), key) != getattr(getattr(new, section), key)
    )
    changed = _changed_sections(old, new)
    if restart:
        return SettingsChange(changed=changed, needs_restart=restart)
    return SettingsChange(changed=changed, settings=new if changed else None)


def _changed_sections(old: Settings, new: Settings) -> tuple[str, ...]:
    return tuple(name for name in old.__struct_fields__ if getattr(old, name) != getattr(new, name))
