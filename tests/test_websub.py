"""WebSub: every Atom feed links its hub; a rebuild pings the hub once per changed feed only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import feedparser
from live_server import serving
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from publisher.app.context import Context
from publisher.app.runner_jobs import refresh_feeds
from publisher.feeds.websub import notify_hub


def _hub(received: list[dict[str, str]], status: list[int]) -> Starlette:
    async def publish(request: Request) -> Response:
        form = await request.form()
        received.append({k: str(v) for k, v in form.items()})
        return Response(status_code=status[0] if status else 204)

    return Starlette(routes=[Route("/hub", publish, methods=["POST"])])


def test_rebuilds_ping_the_hub_once_per_changed_feed(
    site: Path, write_post: Callable[..., Path], now: datetime
) -> None:
    write_post("2025-09-01-a.md", "title: A\ncategories: [c]\ntags: [t]")
    write_post("2025-09-02-b.md", "title: B\ncategories: [d]")
    received: list[dict[str, str]] = []
    with serving(_hub(received, [])) as base:
        hub = f"{base}/hub"
        environ = {"PUBLISHER_FEEDS__WEBSUB_HUB": hub, "PUBLISHER_FEEDS__FORMATS": "['atom']"}
        ctx = Context(site_dir=site, now=now, environ=environ)
        first = refresh_feeds(ctx, site.parent / "out")
        assert first.problems == ()
        urls = sorted(r["hub.url"] for r in received)
        assert urls == [
            "https://blog.example.com/feeds/atom.xml",
            "https://blog.example.com/feeds/categories/c.xml",
            "https://blog.example.com/feeds/categories/d.xml",
            "https://blog.example.com/feeds/tags/t.xml",
        ]
        assert {r["hub.mode"] for r in received} == {"publish"}
        received.clear()
        assert refresh_feeds(ctx, site.parent / "out").changed == ()
        assert received == []  # nothing changed: no ping
        post = site / "_posts/2025-09-02-b.md"
        post.write_text(post.read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
        refresh_feeds(ctx, site.parent / "out")
        assert sorted(r["hub.url"] for r in received) == [
            "https://blog.example.com/feeds/atom.xml",
            "https://blog.example.com/feeds/categories/d.xml",
        ]
    feed = feedparser.parse((site.parent / "out/feeds/atom.xml").read_bytes())
    links = {link.rel: link.href for link in feed.feed.links}
    assert links["hub"] == hub and links["self"] == "https://blog.example.com/feeds/atom.xml"


def test_a_failing_hub_is_retried_then_reported_not_fatal() -> None:
    received: list[dict[str, str]] = []
    sleeps: list[float] = []
    with serving(_hub(received, [503])) as base:
        failures = notify_hub(
            f"{base}/hub",
            ["https://x.org/feeds/atom.xml"],
            attempts=3,
            backoff=0.5,
            sleep=sleeps.append,
        )
    assert len(received) == 3 and sleeps == [0.5, 1.0]
    assert failures == ["https://x.org/feeds/atom.xml: hub answered 503"]


def test_a_refusing_hub_is_not_retried() -> None:
    received: list[dict[str, str]] = []
    with serving(_hub(received, [400])) as base:
        failures = notify_hub(
            f"{base}/hub", ["https://x.org/a.xml"], attempts=3, sleep=lambda s: None
        )
    assert len(received) == 1 and failures == ["https://x.org/a.xml: hub answered 400"]


def test_an_unreachable_hub_is_reported() -> None:
    from smtp_server import free_port

    failures = notify_hub(
        f"http://127.0.0.1:{free_port()}/hub",
        ["https://x.org/a.xml"],
        attempts=2,
        sleep=lambda s: None,
    )
    assert len(failures) == 1 and failures[0].startswith("https://x.org/a.xml: ")
