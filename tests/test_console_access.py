"""The console's login, use-case side: the throttle, the hash in force, sessions, hash-password.

No web server here: :mod:`publisher.app.console_access` and
:mod:`publisher.app.console_throttle` with times given by hand, and the
``publisher console hash-password`` command (through CliRunner and a real
terminal). Hashes are checked with argon2 itself, not with publisher's code.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import argon2
import msgspec
import pytest
from click.testing import CliRunner
from clock_support import FakeClock

from publisher.app.console_access import ConsoleAccess
from publisher.app.console_throttle import LoginThrottle
from publisher.app.context import Context
from publisher.cli import main
from publisher.config import Settings
from publisher.errors import ConfigError

T = datetime(2025, 11, 20, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
HASH = argon2.PasswordHasher().hash(PASSWORD)
EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "publisher.example.toml"


def _seconds(n: float) -> datetime:
    return T + timedelta(seconds=n)


def test_a_client_waits_2_4_8_seconds_after_its_fifth_failure() -> None:
    throttle = LoginThrottle()
    assert [throttle.failed("192.0.2.7", T) for _ in range(4)] == [(1, 0), (2, 0), (3, 0), (4, 0)]
    assert throttle.wait("192.0.2.7", T) == 0
    assert throttle.failed("192.0.2.7", T) == (5, 2)
    assert [throttle.wait("192.0.2.7", _seconds(s)) for s in (0, 1.5, 2)] == [2, 1, 0]
    assert throttle.failed("192.0.2.7", _seconds(2)) == (6, 4)
    assert throttle.failed("192.0.2.7", _seconds(6)) == (7, 8)
    assert throttle.wait("198.51.100.1", _seconds(6)) == 0  # other clients are not held up


def test_the_wait_stops_growing_at_fifteen_minutes() -> None:
    throttle = LoginThrottle()
    waits = [throttle.failed("192.0.2.7", T)[1] for _ in range(20)]
    assert waits[4:14] == [2, 4, 8, 16, 32, 64, 128, 256, 512, 900]
    assert set(waits[13:]) == {900}


def test_success_or_a_quiet_day_starts_a_client_afresh() -> None:
    throttle = LoginThrottle(free=2)
    throttle.failed("a", T)
    throttle.succeeded("a")
    assert throttle.failed("a", T) == (1, 0)
    throttle.failed("b", T)
    assert throttle.failed("b", _seconds(24 * 3600)) == (1, 0)


def test_the_global_ceiling_holds_every_client_until_the_oldest_failure_is_an_hour_old() -> None:
    throttle = LoginThrottle(ceiling=3)
    assert throttle.failed("a", T) == (1, 0)
    assert throttle.failed("b", _seconds(60)) == (1, 0)
    assert throttle.failed("c", _seconds(120)) == (1, 3480)
    assert throttle.wait("never seen", _seconds(120)) == 3480
    assert throttle.wait("never seen", _seconds(3599)) == 1
    assert throttle.wait("never seen", _seconds(3600)) == 0


def test_the_clients_remembered_are_bounded() -> None:
    throttle = LoginThrottle(free=1, max_clients=2)
    for client in ("a", "b", "c"):
        throttle.failed(client, T)
    assert throttle.wait("a", T) == 0  # forgotten: seen longest ago
    assert throttle.wait("b", T) == throttle.wait("c", T) == 2


def _ctx(tmp_path: Path, config: str = "", **environ: str) -> Context:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "publisher.toml").write_text(
        f'[site]\nurl = "https://blog.example.com"\n[paths]\nvar = "{tmp_path / "var"}"\n{config}',
        encoding="utf-8",
    )
    return Context(
        site_dir=site,
        environ={"PUBLISHER_SECRET": "s" * 32, **environ},
        wall=FakeClock(T),
    )


def test_which_password_is_in_force(tmp_path: Path) -> None:
    other = argon2.PasswordHasher().hash("another passphrase")
    access = ConsoleAccess()
    assert access.password_hash(_ctx(tmp_path)) is None  # the console is off
    in_file = _ctx(tmp_path, f"[console]\npassword_hash = '{other}'\n")
    assert access.password_hash(in_file) == other and access.warnings(in_file) == []
    both = _ctx(
        tmp_path,
        f"[console]\npassword_hash = '{other}'\n",
        PUBLISHER_CONSOLE_PASSWORD_HASH=HASH,
        PUBLISHER_CONSOLE_PASSWORD="an old plain password",
    )
    assert access.password_hash(both) == HASH  # the environment's hash first
    assert access.warnings(both) == [
        "PUBLISHER_CONSOLE_PASSWORD is ignored: a password hash is set; remove it"
    ]
    plain = _ctx(tmp_path, PUBLISHER_CONSOLE_PASSWORD=PASSWORD)
    hashed = access.password_hash(plain)
    assert hashed is not None and argon2.PasswordHasher().verify(hashed, PASSWORD)
    assert access.password_hash(plain) == hashed  # hashed once, kept in memory
    assert "in the clear" in access.warnings(plain)[0]


def test_a_bad_hash_in_the_file_is_named(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, "[console]\npassword_hash = 'md5:abc'\n")
    with pytest.raises(ConfigError, match=r"^console\.password_hash: is not an argon2id hash"):
        ConsoleAccess().password_hash(ctx)


def test_a_session_is_signed_dated_and_ends_with_logout(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, PUBLISHER_CONSOLE_PASSWORD_HASH=HASH)
    access = ConsoleAccess()
    assert access.log_in(ctx, "a", "a wrong guess").outcome == "wrong"
    result = access.log_in(ctx, "a", PASSWORD)
    assert result.outcome == "ok" and access.session_valid(ctx, result.session)
    assert not ConsoleAccess().session_valid(ctx, result.session)  # another process: unknown
    second = access.log_in(ctx, "b", PASSWORD).session
    access.log_out(ctx, result.session)
    assert not access.session_valid(ctx, result.session)
    assert access.session_valid(ctx, second)  # only that one ended
    assert isinstance(ctx.wall, FakeClock)
    ctx.wall.advance(timedelta(hours=12))
    assert not access.session_valid(ctx, second)


def _hash_password(stdin: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["console", "hash-password"], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_hash_password_prints_an_argon2id_hash_of_stdin_and_how_to_set_it() -> None:
    code, out, err = _hash_password(f"{PASSWORD}\n")
    assert code == 0
    hashed = out.strip()
    assert hashed.startswith("$argon2id$") and "\n" not in hashed
    assert argon2.PasswordHasher().verify(hashed, PASSWORD)
    assert f"export PUBLISHER_CONSOLE_PASSWORD_HASH='{hashed}'" in err
    assert f"password_hash = '{hashed}'" in err


@pytest.mark.parametrize("password", ["", "x", "eleven char", "短いパスワード"])
def test_hash_password_refuses_a_short_password(password: str) -> None:
    code, out, err = _hash_password(f"{password}\n")
    assert (code, out) == (2, "")
    assert "must be at least 12 characters long" in err


def test_hash_password_takes_no_argument() -> None:
    result = CliRunner().invoke(main, ["console", "hash-password", PASSWORD])
    assert result.exit_code == 2 and "$argon2" not in result.output


def test_hash_password_asks_twice_at_a_terminal_without_echo() -> None:
    script = Path(sys.executable).parent / "publisher"
    if not script.exists():
        pytest.skip("the publisher script is not installed")
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(script), "console", "hash-password"],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=follower,
    )
    os.close(follower)
    try:
        seen = _answer(leader, b"")
        seen = _answer(leader, seen + b"|")
        out, _ = process.communicate(timeout=60)
    finally:
        process.kill()
        os.close(leader)
    assert process.returncode == 0, seen
    assert b"Console password:" in seen and b"Repeat for confirmation:" in seen
    assert argon2.PasswordHasher().verify(out.decode().strip(), PASSWORD)
    assert PASSWORD.encode() not in seen  # not echoed


def _answer(leader: int, seen: bytes) -> bytes:
    """Read the terminal until a prompt (": "), then type the password."""
    while not seen.rstrip().endswith(b":"):
        ready, _, _ = select.select([leader], [], [], 30)
        assert ready, f"no prompt: {seen!r}"
        seen += os.read(leader, 1024)
    os.write(leader, f"{PASSWORD}\n".encode())
    return seen


def test_the_example_config_shows_the_console_section_with_its_defaults() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    settings = msgspec.convert(tomllib.loads(text), Settings)
    assert settings.console == Settings().console
    for field in msgspec.structs.fields(Settings().console):
        assert f"\n{field.encode_name} = " in text, field.encode_name
