"""The security review's attacks on the subscriber pages, through Starlette's TestClient.

One test per attack the review reproduced, each asserting what an attacker
or the address holder can see: status codes, headers, the rows in the
database and the ``.eml`` files written. (The attacks that need a real
server — streamed bodies, the server's memory, X-Forwarded-For through
uvicorn — are in ``test_hostile_server.py``.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from smtp_server import free_port
from sqlalchemy import Engine
from starlette.testclient import TestClient
from web_support import SECRET, confirm_link, make_context, make_site, outbox, read_eml

from publisher.app import signup
from publisher.app.context import Context
from publisher.models import Subscriber
from publisher.store import add_subscriber, find_subscriber, unsubscribe
from publisher.tokens import sign
from publisher.web import application, create_app

STAMP = re.compile(r'name="stamp" value="([^"]+)"')
TITLE = re.compile(r"<h1>(.*?)</h1>", re.S)
SECURITY = ("content-security-policy", "x-content-type-options", "x-frame-options")


class Visitor:
    """One client of the pages (its own address), on the context ``ctx``."""

    def __init__(self, ctx: Context, host: str = "192.0.2.10", app: object = None) -> None:
        self.ctx = ctx
        self.client = TestClient(
            app or create_app(lambda: ctx), client=(host, 40000), raise_server_exceptions=False
        )

    def stamp(self) -> str:
        match = STAMP.search(self.client.get("/subscribe").text)
        assert match
        return match[1]

    def subscribe(self, email: str, *categories: str, name: str = "", **headers: str) -> int:
        data = {"email": email, "name": name, "category": list(categories), "stamp": self.stamp()}
        return self.client.post("/subscribe", data=data, headers=headers).status_code


def _site(tmp_path: Path, db: Engine, web: str = "", **options: str) -> Context:
    site = make_site(tmp_path, db.url.render_as_string(hide_password=False), **options)
    toml = site / "publisher.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[web]\n", f"[web]\n{web}"), "utf-8")
    return make_context(site)


@pytest.fixture
def ctx(tmp_path: Path, db: Engine) -> Iterator[Context]:
    context = _site(tmp_path, db)
    yield context
    context.engine.dispose()


def _stored(ctx: Context, email: str) -> Subscriber:
    found = find_subscriber(ctx.engine, email)
    assert found is not None
    return found


def _links(ctx: Context, to: str) -> list[str]:
    return [
        urlsplit(confirm_link(read_eml(p))).path for p in outbox(ctx) if read_eml(p)["To"] == to
    ]


def _secured(response: object) -> bool:
    headers = response.headers  # type: ignore[attr-defined]
    return all(name in headers for name in SECURITY) and headers["cache-control"] == "no-store"


# --- bodies -------------------------------------------------------------------------


def test_a_body_over_max_body_bytes_is_413_before_any_form_is_parsed(ctx: Context) -> None:
    ann = add_subscriber(ctx.engine, "ann@example.org", status="active", now=ctx.clock())
    visitor = Visitor(ctx)
    path = f"/unsubscribe/{sign(SECRET.encode(), 'unsubscribe', ann.id)}"
    fields = {f"f{n}": "a" * 1000 for n in range(20)}  # 20 kB, over the 8 kB default
    declared = visitor.client.post("/unsubscribe/1.bogus", data=fields)
    assert declared.status_code == 413 and _secured(declared)
    assert TITLE.search(declared.text)[1] == "送信された内容が大きすぎます"  # type: ignore[index]

    def stream() -> Iterator[bytes]:  # no Content-Length: chunked, counted as it comes
        yield b"List-Unsubscribe=One-Click"
        for _ in range(20):
            yield b"&x=" + b"a" * 1000

    streamed = visitor.client.post(
        path, content=stream(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert streamed.status_code == 413 and _secured(streamed)
    assert _stored(ctx, "ann@example.org").status == "active"  # the request did nothing


def test_a_file_part_or_another_body_type_is_refused(ctx: Context) -> None:
    ann = add_subscriber(ctx.engine, "ann@example.org", status="active", now=ctx.clock())
    visitor = Visitor(ctx)
    path = f"/unsubscribe/{sign(SECRET.encode(), 'unsubscribe', ann.id)}"
    upload = visitor.client.post(path, files={"f": ("a.bin", b"\0" * 100)})
    assert upload.status_code == 400 and _secured(upload)
    for route in ("/subscribe", path, f"/preferences/{sign(SECRET.encode(), 'preferences', 1)}"):
        as_json = visitor.client.post(route, content=b"{}", headers={"Content-Type": "text/json"})
        assert as_json.status_code == 415 and _secured(as_json), route
        assert TITLE.search(as_json.text)[1] == "フォームを読み取れませんでした"  # type: ignore[index]
    assert _stored(ctx, "ann@example.org").status == "active"
    assert outbox(ctx) == []


# --- rewriting a stranger's sign-up ------------------------------------------------


def test_a_request_for_a_pending_address_changes_nothing_stored(ctx: Context) -> None:
    holder, stranger = Visitor(ctx, "192.0.2.10"), Visitor(ctx, "203.0.113.66")
    assert holder.subscribe("ann@example.org", "投資分析", name="山田 花子") == 200
    before = _stored(ctx, "ann@example.org")
    assert stranger.subscribe("ann@example.org", "Policy", name="Mallory") == 200
    assert _stored(ctx, "ann@example.org") == before  # within resend_minutes: no mail either
    ctx.wall.advance(timedelta(minutes=10))
    assert stranger.subscribe("ann@example.org", "Policy", name="Mallory") == 200
    assert _stored(ctx, "ann@example.org") == before  # mailed again, but nothing stored changed
    first, _second = _links(ctx, "ann@example.org")
    confirmed = holder.client.post(first)  # the holder confirms what they asked for
    assert confirmed.status_code == 200
    ann = _stored(ctx, "ann@example.org")
    assert (ann.status, ann.name, ann.categories) == ("active", "山田 花子", ("投資分析",))


def test_only_confirming_applies_what_a_later_request_asked(ctx: Context) -> None:
    holder = Visitor(ctx)
    holder.subscribe("ann@example.org", "投資分析", name="Ann")
    ctx.wall.advance(timedelta(minutes=10))
    holder.subscribe("ann@example.org", "Policy", "Engineering", name="Ann Smith")
    assert _stored(ctx, "ann@example.org").categories == ("投資分析",)
    _first, second = _links(ctx, "ann@example.org")
    tampered = second[:-3] + ("AAA" if not second.endswith("AAA") else "BBB")
    assert holder.client.post(tampered).status_code == 400  # the choice is signed
    assert holder.client.post(second).status_code == 200
    ann = _stored(ctx, "ann@example.org")
    assert (ann.status, ann.name, ann.categories) == (
        "active",
        "Ann Smith",
        ("Policy", "Engineering"),
    )


def test_an_unsubscribed_address_stays_unsubscribed_until_its_holder_confirms(
    ctx: Context,
) -> None:
    ann = add_subscriber(
        ctx.engine, "ann@example.org", status="active", categories=("投資分析",), now=ctx.clock()
    )
    left = unsubscribe(ctx.engine, ann.id, ctx.clock())
    ctx.wall.advance(timedelta(minutes=1))
    stranger = Visitor(ctx, "203.0.113.66")
    assert stranger.subscribe("ann@example.org", "Policy", name="Mallory") == 200
    assert _stored(ctx, "ann@example.org") == left  # still unsubscribed, nothing changed
    [link] = _links(ctx, "ann@example.org")  # one mail (within the resend limit)
    assert stranger.subscribe("ann@example.org", "Policy") == 200
    assert len(_links(ctx, "ann@example.org")) == 1
    page = stranger.client.get(link)
    assert TITLE.search(page.text)[1] == "購読の確認"  # type: ignore[index]
    assert stranger.client.post(link).status_code == 200  # the holder, from the mail
    back = _stored(ctx, "ann@example.org")
    assert (back.status, back.categories) == ("active", ("Policy",))


# --- cross-site posts and one stamp for thousands --------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/form.html"},
        {"Origin": "https://news.example.com.evil.example"},
    ],
)
def test_a_cross_site_post_is_403(ctx: Context, headers: dict[str, str]) -> None:
    visitor = Visitor(ctx)
    data = {"email": "victim@example.org", "stamp": visitor.stamp()}
    response = visitor.client.post("/subscribe", data=data, headers=headers)
    assert response.status_code == 403 and _secured(response)
    assert TITLE.search(response.text)[1] == "ほかのサイトから送信されたフォームです"  # type: ignore[index]
    assert find_subscriber(ctx.engine, "victim@example.org") is None
    assert outbox(ctx) == []


def test_the_sites_own_origin_and_allowed_origins_may_post(tmp_path: Path, db: Engine) -> None:
    ctx = _site(tmp_path, db, 'allowed_origins = ["https://blog.example.com"]\n')
    visitor = Visitor(ctx)
    assert visitor.subscribe("a@example.org", Origin="https://news.example.com") == 200
    assert visitor.subscribe("b@example.org", Origin="https://blog.example.com") == 200
    assert visitor.subscribe("c@example.org", Referer="https://news.example.com/subscribe") == 200
    assert visitor.subscribe("d@example.org", Origin="http://blog.example.com") == 403
    assert len(outbox(ctx)) == 3
    ctx.engine.dispose()


def test_one_stamp_cannot_serve_other_clients(ctx: Context) -> None:
    stamp = Visitor(ctx, "192.0.2.10").stamp()
    for n in range(5):
        other = Visitor(ctx, f"198.51.100.{n + 1}")
        data = {"email": f"r{n}@example.org", "stamp": stamp}
        assert other.client.post("/subscribe", data=data).status_code == 400
    assert outbox(ctx) == []


def test_past_pending_per_hour_the_form_is_429_and_mails_no_one(tmp_path: Path, db: Engine) -> None:
    ctx = _site(tmp_path, db, "pending_per_hour = 3\n")
    clients = [Visitor(ctx, f"198.51.100.{n + 1}") for n in range(5)]
    assert [c.subscribe(f"r{n}@example.org") for n, c in enumerate(clients[:3])] == [200] * 3
    refused = clients[3].client.post(
        "/subscribe", data={"email": "r3@example.org", "stamp": clients[3].stamp()}
    )
    assert refused.status_code == 429 and refused.headers["retry-after"] == "3600"
    assert "ただいま登録のお申し込みが集中しています" in refused.text and _secured(refused)
    assert find_subscriber(ctx.engine, "r3@example.org") is None
    assert len(outbox(ctx)) == 3
    ctx.wall.advance(timedelta(hours=1))
    assert clients[4].subscribe("r4@example.org") == 200
    assert len(outbox(ctx)) == 4
    ctx.engine.dispose()


def test_expired_pending_sign_ups_are_purged_and_nobody_else(ctx: Context) -> None:
    now = ctx.clock()
    Visitor(ctx).subscribe("old@example.org")
    for email, status in (("on@example.org", "active"), ("off@example.org", "unsubscribed")):
        add_subscriber(ctx.engine, email, status=status, now=now)  # type: ignore[arg-type]
    ctx.wall.advance(timedelta(days=6))
    Visitor(ctx, "198.51.100.1").subscribe("recent@example.org")
    ctx.wall.advance(timedelta(days=1, seconds=1))  # old's link has expired, recent's has not
    Visitor(ctx, "198.51.100.2").subscribe("new@example.org")  # a sign-up purges
    assert find_subscriber(ctx.engine, "old@example.org") is None
    kept = ("on@example.org", "off@example.org", "recent@example.org", "new@example.org")
    assert [_stored(ctx, e).status for e in kept] == ["active", "unsubscribed"] + ["pending"] * 2
    assert signup.purge_expired(ctx) == 0  # idempotent
    ctx.wall.advance(timedelta(days=7, seconds=1))
    assert signup.purge_expired(ctx) == 2
    assert [_stored(ctx, e).status for e in kept[:2]] == ["active", "unsubscribed"]


def test_publisher_run_purges_expired_pending_sign_ups_every_hour(ctx: Context) -> None:
    from publisher.scheduler import PURGE_HOURS, Runner

    Visitor(ctx).subscribe("old@example.org")
    add_subscriber(ctx.engine, "on@example.org", status="active", now=ctx.clock())
    ctx.wall.advance(timedelta(days=8))
    runner = Runner(ctx, ctx.site_dir.parent / "out")
    runner.start()
    try:
        assert runner.scheduler.get_job("purge").trigger.interval == timedelta(hours=PURGE_HOURS)
        runner.run("purge")  # what the job runs, in this thread
    finally:
        runner.shutdown()
    assert find_subscriber(ctx.engine, "old@example.org") is None
    assert _stored(ctx, "on@example.org").status == "active"


# --- headers, redirects, errors ------------------------------------------------------


def test_no_redirect_uses_the_host_header(ctx: Context) -> None:
    for app in (create_app(lambda: ctx), application(ctx)):
        visitor = Visitor(ctx, app=app)
        for path in ("/subscribe/", "/console", "//evil.example/subscribe/"):
            response = visitor.client.get(
                path, headers={"Host": "evil.example"}, follow_redirects=False
            )
            location = response.headers.get("location", "")
            assert "evil.example" not in location.split("/")[:3], (path, location)
            assert not location.startswith("//"), (path, location)
            assert _secured(response), path


def test_every_response_carries_the_security_headers(tmp_path: Path, db: Engine) -> None:
    ctx = _site(tmp_path, db, "subscribe_per_hour = 1\n")
    visitor = Visitor(ctx, app=application(ctx))
    responses = {
        404: visitor.client.get("/no-such-page"),
        405: visitor.client.delete("/subscribe"),
        308: visitor.client.get("/console", follow_redirects=False),
        200: visitor.client.get("/healthz"),
    }
    visitor.subscribe("a@example.org")
    responses[429] = visitor.client.post("/subscribe", data={"email": "b@example.org"})
    down = make_context(
        make_site(tmp_path / "down", f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    )
    visitor = Visitor(down)
    data = {"email": "a@example.org", "stamp": visitor.stamp()}
    responses[503] = visitor.client.post("/subscribe", data=data)  # the database is down
    for status, response in responses.items():
        assert response.status_code == status and _secured(response), status
    assert TITLE.search(responses[404].text)[1] == "ページが見つかりません"  # type: ignore[index]
    assert (
        responses[405].headers["allow"] == "GET, POST" or "GET" in responses[405].headers["allow"]
    )
    ctx.engine.dispose()


def test_a_500_is_the_sites_page_with_headers_and_no_traceback(tmp_path: Path) -> None:
    """A damaged SQLite file: an error no handler expects (not a StoreError)."""
    database = tmp_path / "damaged.db"
    ctx = make_context(make_site(tmp_path, f"sqlite:///{database}"))
    Visitor(ctx).subscribe("ann@example.org")
    ctx.engine.dispose()
    database.write_bytes(b"not a database " * 1000)
    for app in (create_app(lambda: ctx), application(ctx)):
        visitor = Visitor(ctx, app=app)
        response = visitor.client.post(
            "/subscribe", data={"email": "bob@example.org", "stamp": visitor.stamp()}
        )
        assert response.status_code == 500 and _secured(response)
        assert TITLE.search(response.text)[1] == "エラーが発生しました"  # type: ignore[index]
        assert "sqlite" not in response.text and "Traceback" not in response.text
    ctx.engine.dispose()
