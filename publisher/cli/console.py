"""``publisher console hash-password``: the argon2id hash the console's login checks.

The password is read from standard input (its first line) or, at a terminal,
asked for twice without echo; never from an argument, which the shell's
history and ``ps`` would keep. The hash alone goes to standard output, so
``HASH=$(publisher console hash-password < file)`` works; how to set it goes
to standard error.
"""

from __future__ import annotations

import sys

import click

from publisher.cli.options import translate_errors

__all__ = ["console"]


@click.group()
def console() -> None:
    """The editors' console (served by `publisher serve` at /console/)."""


@console.command("hash-password")
@translate_errors
def hash_password_command() -> None:
    """Print an argon2id hash of the console's password, and how to set it.

    Reads the password from standard input (the first line), or asks for it
    twice at a terminal; never from an argument (shell history). It must be
    at least 12 characters long.

    Example:

        publisher console hash-password
    """
    from publisher.app.console_access import HASH_ENV, hash_password

    hashed = hash_password(_read_password())
    click.echo(hashed)
    click.echo(
        "\nSet it where `publisher serve` runs, in single quotes (it holds '$' signs):\n"
        f"  export {HASH_ENV}='{hashed}'\n"
        "or in publisher.toml:\n"
        f"  [console]\n  password_hash = '{hashed}'\n"
        "Every editor logged in under the old password is logged out.",
        err=True,
    )


def _read_password() -> str:
    stdin = sys.stdin
    if stdin.isatty():
        password: str = click.prompt(
            "Console password", hide_input=True, confirmation_prompt=True, err=True
        )
        return password
    line = stdin.readline()
    if not line:
        click.echo("Error: no password on standard input", err=True)
        sys.exit(2)
    return line.removesuffix("\n").removesuffix("\r")
