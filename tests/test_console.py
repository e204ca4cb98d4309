"""publisher.web.console: the editors' console through Starlette's TestClient, on a real database.

The app is the one `publisher serve` runs (subscriber pages and console on one
context); mail goes to ``.eml`` files (no [smtp] host), read back as sent.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import argon2
import pytest
from clock_support import FakeClock
from smtp_server import RecordingHandler, running_smtp
from sqlalchemy import Engine
from starlette.testclient import TestClient
from web_support import NOW, SECRET, make_site, outbox, read_eml

from publisher.app.console_send import SendJob, form_token
from publisher.app.context import Context
from publisher.app.sending import send_digest
from publisher.store import add_subscriber, edition_counts, list_editions
from publisher.web import application

PASSWORD = "correct horse battery staple"
PASSWORD_HASH = argon2.PasswordHasher().hash(PASSWORD)  # made by argon2 itself, not by publisher
TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
SECURITY = {
    "content-security-policy": "default-src 'none'",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "referrer-policy": "same-origin",
}


class Console:
    """A TestClient on the served app (over https), logged in as an editor unless told otherwise."""

    def __init__(self, ctx: Context, *, log_in: bool = True) -> None:
        self.ctx = ctx
        self.client = client_for(application(ctx))
        if log_in:
            response = self.log_in()
            assert response.status_code == 303, response.text

    def log_in(self, password: str = PASSWORD, client: TestClient | None = None) -> Any:
        """POST the login form (with the token of a freshly loaded login page)."""
        http = client or self.client
        match = TOKEN.search(http.get("/console/login").text)
        assert match, "the login page has no form"
        return http.post("/console/login", data={"form_token": match[1], "password": password})

    def get(self, path: str = "/console/", **kw: object) -> Any:
        return self.client.get(path, **kw)  # type: ignore[arg-type]

    def post(self, path: str, data: dict[str, str] | None = None, **kw: object) -> Any:
        form = {"form_token": self.token(), **(data or {})}
        return self.client.post(path, data=form, **kw)  # type: ignore[arg-type]

    def token(self) -> str:
        match = TOKEN.search(self.get().text)
        assert match, "the dashboard has no form"
        return match[1]

    def wait_for_send(self) -> str:
        for _ in range(600):
            page = self.get().text
            if 'http-equiv="refresh"' not in page:
                return page
            time.sleep(0.05)
        raise AssertionError("the send did not finish")


def client_for(app: Any, scheme: str = "https", host: str = "testclient") -> TestClient:
    return TestClient(
        app, base_url=f"{scheme}://testserver", follow_redirects=False, client=(host, 50000)
    )


def _context(site: Path, **environ: str) -> Context:
    return Context(
        site_dir=site,
        now=NOW,
        environ={"PUBLISHER_SECRET": SECRET, **environ},
        wall=FakeClock(NOW),
    )


def _site(tmp_path: Path, db: Engine, **kw: str) -> Path:
    return make_site(tmp_path, db.url.render_as_string(hide_password=False), **kw)


@pytest.fixture
def console(tmp_path: Path, db: Engine) -> Iterator[Console]:
    ctx = _context(_site(tmp_path, db), PUBLISHER_CONSOLE_PASSWORD_HASH=PASSWORD_HASH)
    for n in range(3):
        add_subscriber(ctx.engine, f"reader{n}@example.org", status="active", now=ctx.clock())
    add_subscriber(ctx.engine, "waiting@example.org", status="pending", now=ctx.clock())
    yield Console(ctx)
    ctx.close()


def test_the_console_is_off_without_a_password(tmp_path: Path, db: Engine) -> None:
    ctx = _context(_site(tmp_path, db))
    client = client_for(application(ctx))
    for method, path in [
        ("GET", "/console/"),
        ("GET", "/console/login"),
        ("POST", "/console/login"),
        ("POST", "/console/logout"),
        ("GET", "/console/preview"),
        ("POST", "/console/send"),
    ]:
        assert client.request(method, path).status_code == 404
    assert client.get("/subscribe").status_code == 200  # the subscriber pages are served
    ctx.close()


def test_the_dashboard_shows_the_next_edition_and_changes_nothing(console: Console) -> None:
    bare = console.get("/console")
    assert (bare.status_code, bare.headers["location"]) == (308, "/console/")
    page = console.get()
    assert page.status_code == 200
    assert "<h1>編集者コンソール</h1>" in page.text
    assert "有効 3・確認待ち 1" in page.text
    assert re.search(r"第1号：.* 以降の新着記事 \d+ 件", page.text)
    assert "図を使わずに説明するベクトル検索" in page.text  # a post of the example site
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert list_editions(console.ctx.engine) == [] and outbox(console.ctx, "edition-1") == []


# The two newest posts of the example site (examples/site/_posts/2025-11-15-…, -08-…).
NEWEST = ("図を使わずに説明するベクトル検索", "自治体の生成AIガイドラインを読み比べて見えたこと")


def test_the_preview_is_the_digest_subscribers_get(console: Console) -> None:
    html = console.get("/console/preview")
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    page = html.text
    assert '<html lang="ja"' in page and all(title in page for title in NEWEST)
    assert 'style="' in page  # premailer inlined the stylesheet, as in the mail
    assert "%%" not in page  # every per-subscriber placeholder was filled in
    assert re.search(r'href="https://news\.example\.com/unsubscribe/0\.[\w-]+"', page)
    policy = html.headers["content-security-policy"]
    assert "sandbox" in policy and "frame-ancestors 'self'" in policy
    text = console.get("/console/preview.txt")
    assert text.headers["content-type"].startswith("text/plain")
    assert all(title in text.text for title in NEWEST) and "<" not in text.text.split("\n")[0]
    assert "%%" not in text.text and "https://news.example.com/unsubscribe/0." in text.text


def test_a_test_copy_goes_to_one_address(console: Console) -> None:
    response = console.post("/console/test", {"to": "editor@example.org"})
    assert response.status_code == 303
    page = console.get(response.headers["location"])
    assert "editor@example.org にテストを送信しました。" in page.text
    [eml] = outbox(console.ctx, "test")
    assert read_eml(eml)["To"] == "editor@example.org"
    assert list_editions(console.ctx.engine) == []  # a test creates no edition


def test_a_bad_test_address_is_shown_and_nothing_is_sent(console: Console) -> None:
    response = console.post("/console/test", {"to": "not an address"})
    assert response.status_code == 422
    assert 'class="notice error"' in response.text and 'value="not an address"' in response.text
    assert outbox(console.ctx, "test") == []


@pytest.mark.parametrize(
    ("token", "origin"),
    [
        ("", None),
        ("0.1763600000.forged", None),
        (None, "https://evil.example"),
        (None, "null"),
    ],
)
def test_a_post_without_a_genuine_form_token_or_from_elsewhere_is_403(
    console: Console, token: str | None, origin: str | None
) -> None:
    form = {"form_token": console.token() if token is None else token}
    headers = {"origin": origin} if origin else {}
    for path in ("/console/send", "/console/test"):
        response = console.client.post(path, data={**form, "to": "x@example.org"}, headers=headers)
        assert response.status_code == 403
    assert list_editions(console.ctx.engine) == [] and outbox(console.ctx, "test") == []


def test_an_old_form_token_is_refused(console: Console) -> None:
    token = console.token()
    console.ctx.wall.advance(timedelta(hours=13))
    assert console.log_in().status_code == 303  # the session ended too: a new one
    response = console.client.post("/console/send", data={"form_token": token})
    assert response.status_code == 403


def test_send_now_delivers_to_every_active_subscriber_once(console: Console) -> None:
    same_origin = {"origin": "https://testserver"}
    response = console.post("/console/send", headers=same_origin)
    assert response.status_code == 303 and "done=send_started" in response.headers["location"]
    page = console.wait_for_send()
    assert (
        "第1号の配信が完了しました。（送信済み 3、失敗 0、未送信 0）" in page
    )  # in the site's language
    [(edition, counts)] = list_editions(console.ctx.engine)
    assert counts["sent"] == 3 and edition.state == "finished"
    recipients = sorted(read_eml(p)["To"] for p in outbox(console.ctx, "edition-1"))
    assert recipients == [f"reader{n}@example.org" for n in range(3)]
    assert 'action="/console/send"' not in console.get().text  # nothing new: no send button
    token = form_token(console.ctx)  # a page loaded before the send finished
    again = console.client.post("/console/send", data={"form_token": token})
    assert again.status_code == 303
    assert "前号以降の新着記事がありません" in console.wait_for_send()
    assert edition_counts(console.ctx.engine, edition.id)["sent"] == 3
    assert len(list_editions(console.ctx.engine)) == 1


def test_one_send_at_a_time_and_the_server_stopping_stops_it(tmp_path: Path, db: Engine) -> None:
    handler = RecordingHandler(delay=0.05)  # slow enough to be caught running
    with running_smtp(handler) as (host, port):
        smtp = f'batch_size = 10\n[smtp]\nhost = "{host}"\nport = {port}\nsecurity = "none"\n'
        site = make_site(tmp_path, db.url.render_as_string(hide_password=False), extra=smtp)
        ctx = _context(site)
        for n in range(40):
            add_subscriber(ctx.engine, f"r{n:02d}@example.org", status="active", now=ctx.clock())
        job = SendJob()
        assert job.start(ctx)
        assert not job.start(ctx)  # a second click while it runs starts nothing
        while not handler.messages:
            time.sleep(0.01)
        assert job.snapshot().running
        job.stop()  # what the server does when it shuts down: the send ends after its batch
        state = job.snapshot()
        ctx.close()
    assert not state.running and state.error == "" and state.report is not None
    [(edition, counts)] = list_editions(db)
    assert counts["sending"] == 0 and 0 < counts["sent"] < 40 and edition.state == "sending"
    recipients = [r for m in handler.messages for r in m.recipients]
    assert len(recipients) == len(set(recipients)) == counts["sent"]


def test_an_unfinished_edition_is_offered_for_resuming(console: Console) -> None:
    report = send_digest(console.ctx, should_stop=lambda: True)  # created, nothing sent
    assert report.edition is not None
    page = console.get().text
    assert "第1号の配信が終わっていません（sending）" in page
    console.post("/console/send")
    assert "第1号の配信が完了しました。" in console.wait_for_send()
    assert edition_counts(console.ctx.engine, report.edition.id)["sent"] == 3
