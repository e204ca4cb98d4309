"""The editors' console in a real browser: Playwright driving Debian's Chromium.

`publisher serve`'s app runs under uvicorn in a thread on 127.0.0.1; the
editor logs in with HTTP credentials, looks at the preview, sends a test copy,
sends the edition and watches it finish. Skipped when /usr/bin/chromium or
playwright is not installed.
"""

from __future__ import annotations

from pathlib import Path

from live_server import serving
from web_support import NOW, SECRET, make_site, outbox, read_eml

from publisher.app.context import Context
from publisher.store import add_subscriber, list_editions
from publisher.web import application

PASSWORD = "correct horse battery staple"


def test_an_editor_previews_tests_and_sends_in_a_browser(browser: object, tmp_path: Path) -> None:
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'publisher.db'}")
    environ = {"PUBLISHER_SECRET": SECRET, "PUBLISHER_CONSOLE_PASSWORD": PASSWORD}
    ctx = Context(site_dir=site, now=NOW, environ=environ)  # the example posts' week
    for n in range(3):
        add_subscriber(ctx.engine, f"reader{n}@example.org", status="active", now=ctx.clock())
    try:
        with serving(application(ctx)) as base:
            anonymous = browser.new_page()  # type: ignore[attr-defined]
            assert anonymous.request.get(f"{base}/console/").status == 401
            editor = browser.new_context(  # type: ignore[attr-defined]
                http_credentials={"username": "editor", "password": PASSWORD}, locale="ja-JP"
            )
            page = editor.new_page()
            page.goto(f"{base}/console/")
            assert page.locator("h1").inner_text() == "編集者コンソール"
            frame = page.frame_locator("iframe")
            assert frame.locator("body").inner_text().strip()  # the digest shows in the preview
            page.get_by_label("テスト送信先").fill("editor@example.org")
            page.get_by_role("button", name="テスト送信").click()
            page.wait_for_load_state()
            assert "editor@example.org にテストを送信しました。" in page.inner_text("body")
            page.screenshot(path=str(tmp_path / "console.png"), full_page=True)
            page.get_by_role("button", name="今すぐ配信").click()
            page.wait_for_selector("#result", timeout=30_000)  # the page refreshes until done
            assert "第1号の配信が完了しました。" in page.locator("#result").inner_text()
    finally:
        ctx.close()
    [test_copy] = outbox(ctx, "test")
    assert read_eml(test_copy)["To"] == "editor@example.org"
    [(edition, counts)] = list_editions(ctx.engine)
    assert edition.state == "finished" and counts["sent"] == 3
