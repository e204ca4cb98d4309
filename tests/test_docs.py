"""README's CLI reference is the real --help of every command; the quick start is real."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from publisher.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"


def _commands() -> dict[str, list[str]]:
    """Every command and subcommand, as ``publisher --help`` lists them (the lazy ones too)."""
    found: dict[str, list[str]] = {"publisher": []}
    context = click.Context(main)
    for name in main.list_commands(context):
        command = main.get_command(context, name)
        found[name] = [name]
        if isinstance(command, click.Group):
            for sub in command.list_commands(context):
                found[f"{name} {sub}"] = [name, sub]
    return found


def test_the_commands_listed_are_all_of_them() -> None:
    """The lazily imported commands count too (a test of nothing but ``build`` passed once)."""
    names = set(_commands())
    assert {"build", "check", "digest send", "subscribers import", "serve", "run"} <= names
    assert len(names) >= 20


def _help(args: list[str]) -> str:
    result = CliRunner().invoke(main, [*args, "--help"], terminal_width=80, prog_name="publisher")
    assert result.exit_code == 0, result.output
    return result.output


def _section(name: str) -> re.Pattern[str]:
    tag = name.replace(" ", "-")
    return re.compile(rf"(<!-- cli:{tag} -->\n```\n)(.*?)(```\n<!-- /cli:{tag} -->)", re.S)


def test_every_command_has_help_and_is_in_readme(update_golden: bool) -> None:
    text = README.read_text(encoding="utf-8")
    for name, args in _commands().items():
        help_text = _help(args)
        assert help_text.splitlines()[2].strip(), f"{name} has no one-line summary"
        pattern = _section(name)
        if update_golden:
            if not pattern.search(text):
                tag = name.replace(" ", "-")
                text += f"\n<!-- cli:{tag} -->\n```\n```\n<!-- /cli:{tag} -->\n"
            text = pattern.sub(lambda m, h=help_text: m[1] + h + m[3], text)
            continue
        match = pattern.search(text)
        assert match, f"README has no CLI section for `{name}`"
        assert match[2] == help_text, (
            f"README's `{name}` section is stale: run pytest --update-golden"
        )
    if update_golden:
        README.write_text(text, encoding="utf-8")


def test_quick_start_has_exactly_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Quick start.*?```sh\n(.*?)```", text, re.S)
    assert block
    commands = [line for line in block[1].splitlines() if line.strip()]
    assert [c.split("#")[0].strip() for c in commands] == ["./dev demo", "./dev test"]
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "./dev test" in ci


@pytest.mark.parametrize("path", ["config/publisher.example.toml", "bench/README.md"])
def test_readme_links_exist(path: str) -> None:
    assert path in README.read_text(encoding="utf-8")
    assert (README.parent / path).is_file()
