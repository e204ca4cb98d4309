"""Options every command shares, and the one place core errors become exit statuses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from publisher.errors import ConfigError, PublisherError

__all__ = ["ConfigFailure", "site_options"]

F = TypeVar("F", bound=Callable[..., Any])


class ConfigFailure(click.ClickException):
    """Invalid settings or options: nothing was done (exit status 2)."""

    exit_code = 2


def _translate_errors(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            raise ConfigFailure(str(exc)) from exc
        except PublisherError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


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
    func = click.option(
        "--site",
        "site_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(),
        show_default="the current folder",
        help="The Jekyll site: the folder with _config.yml and _posts/.",
    )(func)
    return func  # noqa: RET504


def site_options(func: F) -> F:
    """``--site``, ``--config`` and ``--now``, with core errors translated."""
    return _site_option_decorators(_translate_errors(func))
