"""The CLI through its real entry point (the installed ``publisher`` script)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import copy_example_site

from publisher import __version__
from publisher.cli import main

SCRIPT = Path(sys.executable).with_name("publisher")


def _run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "publisher"]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    full_env.update(env or {})
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def cli_site(site: Path, write_post: Callable[..., Path]) -> Path:
    write_post("2025-09-01-a.md", "title: A\ncategories: [c]\ntags: [t]")
    return site


def test_build_exit_0_and_report(cli_site: Path) -> None:
    result = _run("build", "--site", "site", "--now", "2025-11-20", cwd=cli_site.parent)
    assert result.returncode == 0, result.stderr
    assert "Read 1 post files: 1 published, 0 with problems." in result.stdout
    assert "6 written, 0 unchanged" in result.stdout
    # The default output is the site folder itself (Jekyll copies feeds/ to the web root);
    # nothing is written in the current folder.
    assert (cli_site / "feeds/atom.xml").is_file()
    assert sorted(p.name for p in cli_site.parent.iterdir()) == ["site"]
    again = _run("build", "--site", "site", "--now", "2025-11-20", cwd=cli_site.parent)
    assert "0 written, 6 unchanged" in again.stdout


def test_build_exit_1_reports_path_line_reason_on_stderr(
    cli_site: Path, write_post: Callable[..., Path]
) -> None:
    write_post("2025-09-02-bad.md", 'title: "unclosed')
    result = _run("build", "--site", "site", cwd=cli_site.parent)
    assert result.returncode == 1
    assert "_posts/2025-09-02-bad.md:2: invalid YAML in front matter" in result.stderr
    assert (cli_site / "feeds/atom.xml").is_file()


def test_build_json_report(cli_site: Path, write_post: Callable[..., Path]) -> None:
    write_post("2025-09-02-bad.md", "date: 2025-09-02")
    result = _run("build", "--site", "site", "--json", cwd=cli_site.parent)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["exit_code"] == 1
    assert report["posts"]["published"] == 1
    assert report["problems"] == [
        {"path": "_posts/2025-09-02-bad.md", "line": 1, "reason": "no title in front matter"}
    ]
    assert "feeds/atom.xml" in report["feeds"]["written"]


def test_build_strict_exit_2_writes_nothing(
    cli_site: Path, write_post: Callable[..., Path]
) -> None:
    write_post("2025-09-02-bad.md", "title: [")
    result = _run("build", "--site", "site", "--strict", cwd=cli_site.parent)
    assert result.returncode == 2
    assert "--strict: nothing was written" in result.stdout
    assert not (cli_site / "feeds").exists()


def test_bad_config_exit_2_names_the_key(cli_site: Path) -> None:
    (cli_site / "publisher.toml").write_text("[feeds]\nlimit = 'x'\n", encoding="utf-8")
    result = _run("build", "--site", "site", cwd=cli_site.parent)
    assert result.returncode == 2
    assert "Error: feeds.limit: Expected `int`, got `str`" in result.stderr


def test_env_override_is_validated_too(cli_site: Path) -> None:
    result = _run(
        "build", "--site", "site", cwd=cli_site.parent, env={"PUBLISHER_FEEDS__LIMT": "3"}
    )
    assert result.returncode == 2
    assert "feeds.limt: unknown key" in result.stderr


def test_bad_now_exit_2(cli_site: Path) -> None:
    result = _run("build", "--site", "site", "--now", "tomorrow-ish", cwd=cli_site.parent)
    assert result.returncode == 2
    assert "--now" in result.stderr


def test_default_site_is_the_current_folder(cli_site: Path) -> None:
    result = _run("build", cwd=cli_site)
    assert result.returncode == 0, result.stderr
    assert (cli_site / "feeds/atom.xml").is_file()


def test_a_relative_output_is_relative_to_the_site_not_the_current_folder(
    cli_site: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = _run("build", "--site", str(cli_site), "--output", "public", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert (cli_site / "public/feeds/atom.xml").is_file()
    assert list(elsewhere.iterdir()) == []
    assert (cli_site / ".publisher/cache/build.json").is_file()


def test_python_dash_m_and_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "publisher", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"publisher, version {__version__}"


def test_example_site_builds_with_its_broken_post_reported(tmp_path: Path) -> None:
    copy_example_site(tmp_path / "site")
    result = _run("build", "--site", "site", "--now", "2025-11-20T09:00:00+09:00", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "_posts/2025-09-30-broken-front-matter.md:" in result.stderr
    assert result.stderr.count("_posts/") == 1


def test_help_lists_every_option() -> None:
    result = CliRunner().invoke(main, ["build", "--help"])
    assert result.exit_code == 0
    for option in ("--site", "--output", "--config", "--now", "--strict", "--json"):
        assert option in result.output


def test_build_path_imports_only_what_it_needs(cli_site: Path) -> None:
    # The build runs on every change of the site: no database, template or mail library.
    code = (
        "import sys; from publisher.cli import main\n"
        "try:\n    main(['build', '--site', 'site'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('sqlalchemy', 'jinja2', 'premailer', 'smtplib', 'alembic') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cli_site.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr
