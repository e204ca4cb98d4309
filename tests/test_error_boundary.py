"""No command ever shows a traceback: every one, against the faults an operator meets.

The faults: a database that is down, a state folder that is read-only, a
``--site`` that does not exist, a site without ``_posts/``. Every command
answers with a line or two and a documented exit status; ``-v`` adds the
traceback. The web pages answer 503 in the site's language when the database
is down, and work again when it is back.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from smtp_server import free_port
from starlette.testclient import TestClient
from web_support import SECRET, make_context, make_site

from publisher.cli import main
from publisher.web import application

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "site"
NOW = "2025-11-20T09:00:00+09:00"
PASSWORD = "hunter2-not-shown"

# Every command that reads or writes state, with arguments that make it do so.
COMMANDS: list[tuple[str, ...]] = [
    ("build",),
    ("check",),
    ("digest", "preview", "--format", "text"),
    ("digest", "test", "--to", "editor@example.org"),
    ("digest", "send"),
    ("digest", "send", "--dry-run"),
    ("digest", "status"),
    ("subscribers", "add", "new@example.org"),
    ("subscribers", "remove", "ann@example.org"),
    ("subscribers", "list"),
    ("subscribers", "import", "LIST"),
    ("subscribers", "export"),
    ("db", "upgrade"),
    ("schedule",),
    ("worker", "--once"),
]
# These two run until stopped when all is well; with a fault they must stop at once.
SERVERS: list[tuple[str, ...]] = [("run", "--no-wait"), ("serve", "--port", "0")]


def _site(root: Path, *, posts: bool = True) -> Path:
    site = root / "site"
    site.mkdir(parents=True)
    shutil.copyfile(EXAMPLE / "_config.yml", site / "_config.yml")
    if posts:
        shutil.copytree(EXAMPLE / "_posts", site / "_posts")
    (root / "list.csv").write_text("email\nann@example.org\n", encoding="utf-8")
    return site


def _invoke(site: Path, args: tuple[str, ...], env: dict[str, str]) -> tuple[int, str]:
    args = tuple(str(site.parent / "list.csv") if a == "LIST" else a for a in args)
    now = () if args[0] in ("run", "serve", "worker") else ("--now", NOW)
    full_env = {k: "" for k in os.environ if k.startswith("PUBLISHER_")} | env
    result = CliRunner().invoke(main, [*args, "--site", str(site), *now], env=full_env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args}: {result.exception!r}") from result.exception
    return result.exit_code, result.output


def _check(args: tuple[str, ...], code: int, output: str, allowed: set[int]) -> None:
    assert "Traceback" not in output, (args, output)
    assert code in allowed, (args, code, output)
    assert PASSWORD not in output, (args, output)


def _down_url() -> str:
    return f"postgresql://postgres:{PASSWORD}@127.0.0.1:{free_port()}/test"


def test_every_command_says_the_database_is_down_in_one_line(tmp_path: Path) -> None:
    site = _site(tmp_path)
    url = _down_url()
    env = {"PUBLISHER_DATABASE__URL": url, "PUBLISHER_SECRET": SECRET}
    for args in COMMANDS + SERVERS:
        code, output = _invoke(site, args, env)
        if args == ("build",):  # the feeds need no database
            _check(args, code, output, {1})
            assert (site / "feeds" / "atom.xml").is_file()
            continue
        if args == ("check",):  # nor does reading the posts: it reports the broken one
            _check(args, code, output, {1})
            assert "_posts/2025-09-30-broken-front-matter.md" in output, output
            continue
        _check(args, code, output, {1})
        errors = [line for line in output.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, (args, output)
        assert errors[0].startswith(f"Error: database {url.rsplit('@', 1)[1]}: "), (args, output)
        assert "connection" in errors[0].lower(), (args, output)


def test_verbose_shows_the_traceback_too(tmp_path: Path) -> None:
    site = _site(tmp_path)
    env = {"PUBLISHER_DATABASE__URL": _down_url()}
    result = CliRunner().invoke(main, ["-v", "subscribers", "list", "--site", str(site)], env=env)
    assert result.exit_code == 1
    assert "Traceback" in result.output and "OperationalError" in result.output
    assert PASSWORD not in result.output.splitlines()[-1]


def test_every_command_names_a_site_folder_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-site"
    (tmp_path / "list.csv").write_text("email\nann@example.org\n", encoding="utf-8")
    for args in COMMANDS + SERVERS:
        code, output = _invoke(missing, args, {})
        _check(args, code, output, {2})
        assert f"--site: {missing}: no such folder" in output, (args, output)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.csv"]  # nothing was created


def test_every_command_copes_with_a_site_without_posts(tmp_path: Path) -> None:
    site = _site(tmp_path, posts=False)
    env = {"PUBLISHER_SECRET": SECRET}
    for args in COMMANDS:
        code, output = _invoke(site, args, env)
        _check(args, code, output, {0, 1, 2})
        if args in (("build",), ("check",)):
            assert code == 2 and "_posts" in output, (args, output)


@contextlib.contextmanager
def _read_only(folder: Path) -> Iterator[None]:
    """``folder`` mounted read-only over itself (root only; otherwise the test skips)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root to mount a read-only folder (even root cannot write there)")
    bind = subprocess.run(["mount", "--bind", folder, folder], capture_output=True, check=False)
    if bind.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {bind.stderr.decode(errors='replace')}")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", folder], check=True)
        yield
    finally:
        subprocess.run(["umount", "-l", folder], check=False)


def test_every_command_copes_with_a_read_only_state_folder(tmp_path: Path) -> None:
    site = _site(tmp_path)
    env = {"PUBLISHER_SECRET": SECRET}
    for args in (("subscribers", "add", "ann@example.org"), ("build",)):
        assert _invoke(site, args, env)[0] in (0, 1)
    state = site / ".publisher"
    before = {p: p.stat().st_mtime_ns for p in state.rglob("*")}
    with _read_only(state):
        with pytest.raises(OSError):
            (state / "probe").write_text("x")
        for args in COMMANDS + SERVERS[:1]:
            code, output = _invoke(site, args, env)
            _check(args, code, output, {0, 1})
            lines = [line for line in output.splitlines() if line.startswith("Error:")]
            assert len(lines) <= 1, (args, output)
    assert {p: p.stat().st_mtime_ns for p in state.rglob("*")} == before


def test_a_traceback_never_reaches_the_terminal_of_the_real_command(tmp_path: Path) -> None:
    """The installed entry point, not only CliRunner: one line, exit status 1."""
    site = _site(tmp_path)
    script = Path(sys.executable).with_name("publisher")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env["PUBLISHER_DATABASE__URL"] = _down_url()
    result = subprocess.run(
        [str(script), "subscribers", "list", "--site", str(site)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and PASSWORD not in result.stderr


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_pages_answer_503_in_the_site_language_while_the_database_is_down(
    tmp_path: Path, lang: str
) -> None:
    port = free_port()
    site = make_site(tmp_path, f"postgresql://postgres@127.0.0.1:{port}/test", lang=lang)
    ctx = make_context(site)
    client = TestClient(application(ctx))
    assert client.get("/subscribe").status_code == 200  # the form needs no database
    page = client.get("/subscribe").text
    stamp = page.split('name="stamp" value="', 1)[1].split('"', 1)[0]
    response = client.post("/subscribe", data={"email": "a@example.org", "stamp": stamp})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "120"
    assert response.headers["Cache-Control"] == "no-store"
    expected = "ただいまご利用いただけません" if lang == "ja" else "Temporarily unavailable"
    assert expected in response.text
    if lang == "ja":
        assert "Temporarily" not in response.text
    assert client.get("/unsubscribe/1.abc").status_code in (400, 503)
    assert "Traceback" not in response.text and "OperationalError" not in response.text


def test_the_console_answers_503_while_the_database_is_down(tmp_path: Path) -> None:
    site = make_site(tmp_path, f"postgresql://postgres@127.0.0.1:{free_port()}/test")
    ctx = make_context(site, PUBLISHER_CONSOLE_PASSWORD="editor-password-1")
    client = TestClient(application(ctx), base_url="https://testserver")
    login = client.get("/console/login")  # the login needs no database
    token = re.search(r'name="form_token" value="([^"]+)"', login.text)
    assert token, login.text
    form = {"form_token": token[1], "password": "editor-password-1"}
    response = client.post("/console/login", data=form)  # then the dashboard: 503
    assert response.status_code == 503
    assert "データベースに接続できません" in response.text


def test_files_a_command_cannot_write_are_named_in_one_line(tmp_path: Path) -> None:
    site = _site(tmp_path)
    env = {"PUBLISHER_SECRET": SECRET}
    code, output = _invoke(
        site, ("digest", "preview", "--output", str(tmp_path / "no" / "such" / "x.html")), env
    )
    _check(("preview",), code, output, {1})
    assert f"Error: {tmp_path}/no/such/x.html: No such file or directory" in output


def test_an_empty_read_only_state_folder_names_what_it_cannot_write(tmp_path: Path) -> None:
    site = _site(tmp_path)
    state = site / ".publisher"
    state.mkdir()
    with _read_only(state):
        code, output = _invoke(site, ("digest", "preview", "--format", "text"), {})
        _check(("preview",), code, output, {1})
        assert f"Error: database {state}/publisher.db: " in output, output
        other_db = {"PUBLISHER_DATABASE__URL": f"sqlite:///{tmp_path / 'elsewhere.db'}"}
        code, output = _invoke(site, ("digest", "preview", "--format", "text"), other_db)
        _check(("preview",), code, output, {1})
        assert f"Error: {state}/secret: cannot write the link secret: " in output, output
