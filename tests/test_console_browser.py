"""The editors' console in a real browser: Playwright driving Debian's Chromium.

`publisher serve`'s app runs under uvicorn in a thread on 127.0.0.1; the
editor logs in on the login page, looks at the preview, sends a test copy,
sends the edition and watches it finish, then logs out. Screenshots at
desktop and phone widths go to ``$PUBLISHER_SCREENSHOTS`` (else the test's
tmp folder). Skipped when /usr/bin/chromium or playwright is not installed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import argon2
import pytest
from live_server import serving
from web_support import NOW, SECRET, make_site, outbox, read_eml

from publisher.app.context import Context
from publisher.store import add_subscriber, list_editions
from publisher.web import application

PASSWORD = "correct horse battery staple"
HASH = argon2.PasswordHasher().hash(PASSWORD)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, Context]]:
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'publisher.db'}")
    environ = {"PUBLISHER_SECRET": SECRET, "PUBLISHER_CONSOLE_PASSWORD_HASH": HASH}
    ctx = Context(site_dir=site, now=NOW, environ=environ)  # the example posts' week
    for n in range(3):
        add_subscriber(ctx.engine, f"reader{n}@example.org", status="active", now=ctx.clock())
    try:
        with serving(application(ctx)) as base:
            yield base, ctx
    finally:
        ctx.close()


def _log_in(page: object, base: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/console/")  # type: ignore[attr-defined]
    page.get_by_label("パスワード").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="ログイン").click()  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]


def test_an_editor_previews_tests_and_sends_in_a_browser(
    browser: object, live: tuple[str, Context]
) -> None:
    base, ctx = live
    page = browser.new_page(locale="ja-JP")  # type: ignore[attr-defined]
    _log_in(page, base)
    assert page.locator("h1").inner_text() == "編集者コンソール"
    frame = page.frame_locator("iframe")
    assert frame.locator("body").inner_text().strip()  # the digest shows in the preview
    page.get_by_label("テスト送信先").fill("editor@example.org")
    page.get_by_role("button", name="テスト送信").click()
    page.wait_for_load_state()
    assert "editor@example.org にテストを送信しました。" in page.inner_text("body")
    page.get_by_role("button", name="今すぐ配信").click()
    page.wait_for_selector("#result", timeout=30_000)  # the page refreshes until done
    assert "第1号の配信が完了しました。" in page.locator("#result").inner_text()
    [test_copy] = outbox(ctx, "test")
    assert read_eml(test_copy)["To"] == "editor@example.org"
    [(edition, counts)] = list_editions(ctx.engine)
    assert edition.state == "finished" and counts["sent"] == 3


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (375, 740)])
def test_an_editor_logs_in_and_out(
    browser: object, live: tuple[str, Context], tmp_path: Path, width: int, height: int
) -> None:
    base, ctx = live
    shots = Path(os.environ.get("PUBLISHER_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": width, "height": height}, locale="ja-JP"
    )
    page = context.new_page()

    def shot(name: str) -> None:
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{name} is wider than the {width} px screen"
        page.screenshot(path=str(shots / f"console-{name}-{width}.png"), full_page=True)

    page.goto(f"{base}/console/")
    assert page.url == f"{base}/console/login"
    assert page.locator("h1").inner_text() == "ログイン"
    text = page.locator("body").inner_text().replace(ctx.config.site.title, "")
    assert not re.search(r"[A-Za-z]{3,}", text), text  # a Japanese site's page: no English
    shot("login")

    _log_in(page, base, "a wrong guess 12345")
    assert page.get_by_role("alert").inner_text() == "パスワードが違います。"
    assert context.cookies() == []
    shot("login-wrong")

    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_load_state()
    assert page.url == f"{base}/console/"
    assert page.locator("h1").inner_text() == "編集者コンソール"
    [cookie] = context.cookies()
    assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == (
        "publisher_console",
        True,
        "Strict",
    )
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script can read it
    assert page.frame_locator("iframe").locator("h1").inner_text()  # the preview has loaded
    # An element shot paints the frame, which a full-page shot alone leaves blank below the fold.
    page.locator("iframe").screenshot(path=str(shots / f"console-preview-{width}.png"))
    shot("dashboard")

    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_load_state()
    assert page.url == f"{base}/console/login?done=logged_out"
    assert page.get_by_role("status").inner_text() == "ログアウトしました。"
    assert context.cookies() == []
    shot("logged-out")
    page.goto(f"{base}/console/")
    assert page.url == f"{base}/console/login"  # logged out for real
    context.close()
