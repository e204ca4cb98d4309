"""The embeddable subscribe form (/subscribe/embed): framed by the blog, by no one else.

The blog (a static Jekyll site) cannot carry the form itself: the form holds
a signed stamp for the reader who loaded it. It frames ``/subscribe/embed``
instead; the frame's own page posts to its own origin, and only the site's
``url`` and ``[web] allowed_origins`` may frame it (CSP ``frame-ancestors``).
Checked with TestClient, then in Chromium: a page of an allowed origin shows
the form and the "check your inbox" page inside its frame, a page of another
origin shows nothing of it.
"""

from __future__ import annotations

import http.server
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from live_server import serving
from starlette.testclient import TestClient
from web_support import make_context, make_site, outbox

from publisher.app.context import Context
from publisher.store import find_subscriber
from publisher.web import create_app

STAMP = re.compile(r'name="stamp" value="([^"]+)"')


def _client(ctx: Context) -> TestClient:
    return TestClient(create_app(lambda: ctx), base_url="https://news.example.com")


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'publisher.db'}")
    made = make_context(site, PUBLISHER_WEB__ALLOWED_ORIGINS='["https://other.example.org:8443"]')
    yield made
    made.close()


def test_the_embed_may_be_framed_by_the_blog_and_allowed_origins_only(ctx: Context) -> None:
    response = _client(ctx).get("/subscribe/embed")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert csp.endswith(
        "frame-ancestors 'self' https://blog.example.com https://other.example.org:8443"
    )
    assert "x-frame-options" not in response.headers  # it cannot list origins; the CSP does
    assert response.headers["x-content-type-options"] == "nosniff"
    assert 'class="embed"' in response.text and STAMP.search(response.text)
    assert 'class="site"' not in response.text  # no header or footer inside the frame


def test_every_other_page_still_refuses_every_frame(ctx: Context) -> None:
    client = _client(ctx)
    for path in ("/subscribe", "/healthz", "/nowhere", "/unsubscribe/1.forged"):
        response = client.get(path)
        assert response.headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path


def test_the_embed_subscribes_and_answers_in_its_frame(ctx: Context) -> None:
    client = _client(ctx)
    stamp = STAMP.search(client.get("/subscribe/embed").text)
    assert stamp
    form = {"stamp": stamp[1], "email": "ann@example.org", "name": "", "category": "投資分析"}
    own = {"origin": "https://news.example.com"}
    response = client.post("/subscribe/embed", data=form, headers=own)
    assert response.status_code == 200 and "メールをご確認ください" in response.text
    assert (
        "frame-ancestors 'self' https://blog.example.com"
        in (response.headers["content-security-policy"])
    )
    ann = find_subscriber(ctx.engine, "ann@example.org")
    assert ann is not None and ann.status == "pending" and len(outbox(ctx)) == 1


@pytest.mark.parametrize(
    "origin", ["https://blog.example.com", "https://evil.example", "null"], ids=str
)
def test_a_post_from_any_page_but_the_frame_is_refused(ctx: Context, origin: str) -> None:
    """The frame posts from its own origin; the blog's page itself has no stamp to post."""
    client = _client(ctx)
    stamp = STAMP.search(client.get("/subscribe/embed").text)
    assert stamp
    form = {"stamp": stamp[1], "email": "ann@example.org"}
    response = client.post("/subscribe/embed", data=form, headers={"origin": origin})
    assert response.status_code == 403  # the blog may frame the form, not post it
    assert find_subscriber(ctx.engine, "ann@example.org") is None


def test_a_hostile_origin_setting_never_reaches_the_header(tmp_path: Path) -> None:
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'publisher.db'}")
    config = site / "_config.yml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'url: "https://blog.example.com"', 'url: "https://a;script-src:*.example"'
        ),
        encoding="utf-8",
    )
    hostile = make_context(site)
    try:
        csp = _client(hostile).get("/subscribe/embed").headers["content-security-policy"]
    finally:
        hostile.close()
    assert csp.endswith("frame-ancestors 'self'") and "script-src" not in csp


# -- in a browser ------------------------------------------------------------------------------


@contextmanager
def _blog(html: str) -> Iterator[str]:
    """A page on an origin of its own (localhost, another port): the blog framing the form."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("width", [1280, 375])
def test_the_blog_shows_the_form_in_its_frame_and_another_site_cannot(
    browser: object, tmp_path: Path, width: int
) -> None:
    holder: dict[str, Context] = {}
    shots = Path(os.environ.get("PUBLISHER_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with serving(create_app(lambda: holder["ctx"])) as base:
        frame = (
            f'<!doctype html><meta charset="utf-8"><title>blog</title>'
            f"<h1>Blog post</h1><p>…</p>"
            f'<iframe src="{base}/subscribe/embed" title="subscribe"'
            f' style="border:0;width:100%;height:640px"></iframe>'
        )
        with _blog(frame) as allowed, _blog(frame) as stranger:
            site = make_site(tmp_path, f"sqlite:///{tmp_path / 'publisher.db'}", base_url=base)
            ctx = holder["ctx"] = make_context(
                site, now=None, PUBLISHER_WEB__ALLOWED_ORIGINS=f'["{allowed}"]'
            )
            try:
                page = browser.new_page(viewport={"width": width, "height": 900}, locale="ja-JP")  # type: ignore[attr-defined]
                page.goto(allowed)
                form = page.frame_locator("iframe")
                form.get_by_label("メールアドレス").fill("mei@example.org")
                form.get_by_label("技術解説").check()
                page.screenshot(path=str(shots / f"embed-form-{width}.png"), full_page=True)
                form.get_by_role("button", name="登録する").click()
                form.locator("h1", has_text="メールをご確認ください").wait_for()
                page.screenshot(path=str(shots / f"embed-check-inbox-{width}.png"), full_page=True)
                mei = find_subscriber(ctx.engine, "mei@example.org")
                assert mei is not None and (mei.status, mei.categories) == (
                    "pending",
                    ("技術解説",),
                )

                other = browser.new_page(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
                other.goto(stranger)
                other.wait_for_timeout(500)  # a blocked frame never loads: give it the chance
                framed = [f for f in other.frames if f != other.main_frame]
                assert framed and all("メールアドレス" not in _text(f) for f in framed)
                other.screenshot(path=str(shots / f"embed-refused-{width}.png"), full_page=True)
            finally:
                ctx.close()


def _text(frame: object) -> str:
    try:
        return str(frame.content())  # type: ignore[attr-defined]
    except Exception:  # a frame the browser blocked may have no document to read
        return ""
