"""Options every command shares, and the one place errors become messages and exit statuses.

Every command runs inside :func:`translate_errors`: a
:class:`~publisher.errors.PublisherError` becomes one line on stderr and an
exit status (2 for settings and options, 1 otherwise); anything else is a bug,
shown as one line saying so (exit status 70). ``publisher -v …`` shows the
traceback as well.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from publisher.errors import ConfigError, PublisherError

if TYPE_CHECKING:
    from datetime import datetime

    from publisher.app import Context
    from publisher.config import Settings

__all__ = [
    "BUG_EXIT",
    "ConfigFailure",
    "command_context",
    "output_option",
    "parse_now",
    "site_option",
    "site_options",
    "translate_errors",
    "verbose",
]

F = TypeVar("F", bound=Callable[..., Any])
BUG_EXIT = 70
"""Exit status of an unexpected error (sysexits' EX_SOFTWARE)."""


class ConfigFailure(click.ClickException):
    """Invalid settings or options: nothing was done (exit status 2)."""

    exit_code = 2


class _Bug(click.ClickException):
    exit_code = BUG_EXIT


def verbose() -> bool:
    """Whether ``publisher -v`` asked for tracebacks."""
    context = click.get_current_context(silent=True)
    return bool(context and context.find_root().params.get("verbose"))


def translate_errors(func: F) -> F:
    """Run a command inside the error boundary (see the module docstring)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            _show_traceback()
            raise ConfigFailure(str(exc)) from exc
        except PublisherError as exc:
            _show_traceback()
            raise click.ClickException(str(exc)) from exc
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            raise click.Abort() from None
        except Exception as exc:
            _show_traceback()
            hint = "" if verbose() else "; run it again with -v to see where"
            raise _Bug(
                f"unexpected {type(exc).__name__}: {exc} (a bug in publisher{hint})"
            ) from exc

    return wrapper  # type: ignore[return-value]


def _show_traceback() -> None:
    if verbose():
        traceback.print_exc(file=sys.stderr)


def _site_option_decorators(func: F) -> F:
    func = click.option(
        "--now",
        "now_text",
        metavar="TIME",
        help="Act as if it were TIME (ISO 8601; no offset = the site's timezone). For previews.",
    )(func)
    func = click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="publisher's TOML settings [default: SITE/publisher.toml if present].",
    )(func)
    return site_option(func)


site_option = click.option(
    "--site",
    "site_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default="the current folder",
    help="The Jekyll site: the folder with _config.yml and _posts/.",
)
"""``--site`` alone (``publisher init`` takes no ``--config`` or ``--now``)."""


def site_options(func: F) -> F:
    """``--site``, ``--config`` and ``--now``, with core errors translated."""
    return _site_option_decorators(translate_errors(func))


output_option = click.option(
    "--output",
    "output_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder the feeds are written under (feeds/ inside it); relative to the site"
    " [default: [paths] output, else the site folder].",
)
"""``--output`` of ``build`` and ``run``."""


def parse_now(text: str, settings: Settings) -> datetime:
    """A ``--now`` value: ISO 8601 or Jekyll's form; no offset means the site's timezone.

    >>> from publisher.config import Settings, SiteSettings
    >>> parse_now("2025-09-21 09:00", Settings(site=SiteSettings(timezone="Asia/Tokyo")))
    datetime.datetime(2025, 9, 21, 9, 0, tzinfo=zoneinfo.ZoneInfo(key='Asia/Tokyo'))
    """
    from publisher.content.dates import parse_date

    try:
        return parse_date(text, settings.site.tz)
    except ValueError as exc:
        raise ConfigError("--now", str(exc)) from exc


def command_context(
    site_dir: Path, config_file: Path | None, now_text: str | None, *, migrate: bool = False
) -> Context:
    """The context of one command: its site and settings, and ``--now`` if given.

    ``migrate``: the command brings an older database schema up to date (the long-running ones).
    """
    from publisher.app import Context

    ctx = Context(site_dir=site_dir, config_file=config_file, migrate=migrate)
    return ctx.at(parse_now(now_text, ctx.config)) if now_text else ctx
