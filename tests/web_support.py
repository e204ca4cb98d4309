"""Helpers shared by the web tests: a copy of the example site wired to a test database."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from clock_support import FakeClock

from publisher.app.context import Context

ROOT = Path(__file__).resolve().parent.parent
SECRET = "test-secret-0123456789abcdef"
NOW = datetime.fromisoformat("2025-11-20T09:00:00+09:00")
_CONFIRM_LINK = re.compile(
    r"https?://\S+/confirm/[0-9]+\.[0-9]+\.[A-Za-z0-9_-]+(?:~[A-Za-z0-9_-]+)?"  # ~choice
)


def make_site(
    root: Path,
    db_url: str,
    *,
    lang: str = "ja",
    base_url: str = "https://news.example.com",
    extra: str = "",
) -> Path:
    """The example site's posts under ``root/site`` with settings for the newsletter."""
    site = root / "site"
    site.mkdir(parents=True)
    example = ROOT / "examples" / "site"
    shutil.copyfile(example / "_config.yml", site / "_config.yml")
    shutil.copytree(example / "_posts", site / "_posts")
    var = (root / "var").as_posix()
    (site / "publisher.toml").write_text(
        f'[site]\nlang = "{lang}"\n'
        f'[paths]\nvar = "{var}"\n'
        f'[database]\nurl = "{db_url}"\n'
        f'[web]\nbase_url = "{base_url}"\n'
        '[digest]\nfrom = "つみきノート <news@blog.example.com>"\nfirst_edition_days = 60\n'
        + extra,
        encoding="utf-8",
    )
    return site


def make_context(site: Path, now: datetime | None = NOW, **environ: str) -> Context:
    return Context(
        site_dir=site,
        now=now,
        environ={"PUBLISHER_SECRET": SECRET, **environ},
        wall=FakeClock(now or NOW),
    )


def read_eml(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def confirm_link(message: EmailMessage) -> str:
    """The confirm link of a confirmation email (from its text part)."""
    body = message.get_body(("plain",))
    assert body is not None
    match = _CONFIRM_LINK.search(body.get_content())
    assert match, body.get_content()
    return match[0]


def outbox(ctx: Context, folder: str = "confirm") -> list[Path]:
    """The .eml files the FileTransport wrote under var/outbox/FOLDER, oldest first."""
    path = ctx.var / "outbox" / folder
    return sorted(path.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns) if path.is_dir() else []
