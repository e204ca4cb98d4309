"""The subscriber pages in a real browser: Playwright driving Debian's Chromium.

The app runs under uvicorn in a thread on 127.0.0.1 (a free port); the
confirm link is read from the .eml the FileTransport wrote. Skipped when
/usr/bin/chromium or playwright is not installed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import serving
from web_support import confirm_link, make_context, make_site, outbox, read_eml

from publisher.app.context import Context
from publisher.store import find_subscriber
from publisher.tokens import sign


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, Context]]:
    from publisher.web import create_app

    holder: dict[str, Context] = {}
    with serving(create_app(lambda: holder["ctx"])) as base:
        site = make_site(tmp_path, f"sqlite:///{tmp_path / 'publisher.db'}", base_url=base)
        ctx = holder["ctx"] = make_context(
            site, now=None
        )  # the real clock: the browser is real too
        yield base, ctx
        ctx.close()


def test_subscribe_confirm_and_unsubscribe_in_a_browser(
    browser: object, live: tuple[str, Context], tmp_path: Path
) -> None:
    base, ctx = live
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="ja-JP")  # type: ignore[attr-defined]
    page.goto(f"{base}/subscribe")
    assert page.locator("h1").inner_text() == "ニュースレターの購読"
    page.get_by_label("メールアドレス").fill("ann@example.org")
    page.get_by_label("お名前").fill("山田 花子")
    page.get_by_label("投資分析").check()
    page.screenshot(path=str(tmp_path / "subscribe.png"), full_page=True)
    page.get_by_role("button", name="登録する").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "メールをご確認ください"

    [eml] = outbox(ctx)
    link = confirm_link(read_eml(eml))
    assert link.startswith(base)
    page.goto(link)
    assert page.locator("h1").inner_text() == "購読の確認"
    pending = find_subscriber(ctx.engine, "ann@example.org")
    assert pending is not None and pending.status == "pending"  # opening the link is not enough
    page.get_by_role("button", name="登録を完了する").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "登録が完了しました"
    ann = find_subscriber(ctx.engine, "ann@example.org")
    assert ann is not None and (ann.status, ann.categories) == ("active", ("投資分析",))

    page.goto(f"{base}/unsubscribe/{sign(ctx.secret, 'unsubscribe', ann.id)}")
    assert page.locator("h1").inner_text() == "配信停止"
    page.screenshot(path=str(tmp_path / "unsubscribe.png"), full_page=True)
    assert find_subscriber(ctx.engine, "ann@example.org").status == "active"  # type: ignore[union-attr]
    page.get_by_role("button", name="配信を停止する").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "配信を停止しました"
    assert find_subscriber(ctx.engine, "ann@example.org").status == "unsubscribed"  # type: ignore[union-attr]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_page_shown_while_the_database_is_down(
    browser: object, tmp_path: Path, lang: str
) -> None:
    """503 in the site's language, laid out at desktop and phone widths (screenshots kept)."""
    from smtp_server import free_port

    from publisher.web import create_app

    shots = Path(os.environ.get("PUBLISHER_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    holder: dict[str, Context] = {}
    with serving(create_app(lambda: holder["ctx"])) as base:
        # base_url is where it is served: the form is refused from any other origin.
        database = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
        site = make_site(tmp_path, database, lang=lang, base_url=base)
        ctx = holder["ctx"] = make_context(site, now=None)
        for width, height in ((1280, 800), (375, 740)):
            page = browser.new_page(viewport={"width": width, "height": height}, locale=lang)  # type: ignore[attr-defined]
            page.goto(f"{base}/subscribe")
            page.get_by_label("メールアドレス" if lang == "ja" else "Email address").fill(
                "ann@example.org"
            )
            page.get_by_role("button", name="登録する" if lang == "ja" else "Subscribe").click()
            page.wait_for_load_state()
            heading = page.locator("h1").inner_text()
            text = page.locator("body").inner_text()
            assert heading == (
                "ただいまご利用いただけません" if lang == "ja" else "Temporarily unavailable"
            )
            if lang == "ja":
                assert not re.search(r"[A-Za-z]{4,}", text.replace(ctx.config.site.title, "")), text
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, f"the page is wider than the {width} px screen"
            page.screenshot(path=str(shots / f"unavailable-{lang}-{width}.png"), full_page=True)
            page.close()
