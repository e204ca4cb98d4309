"""publisher.web.console: the editors' console through Starlette's TestClient, on a real database.

The app is the one `publisher serve` runs (subscriber pages and console on one
context); mail goes to ``.eml`` files (no [smtp] host), read back as sent.
"""

from __future__ import annotations

import logging
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

from publisher.app.console_access import ConsoleAccess
from publisher.app.console_send import SendJob, form_token
from publisher.app.context import Context
from publisher.app.sending import send_digest
from publisher.errors import ConfigError
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


def _cookie(response: Any) -> dict[str, str]:
    """The console's Set-Cookie: its value under "value", then each attribute (lower case)."""
    [header] = [v for v in response.headers.get_list("set-cookie") if v.startswith("publisher_")]
    first, *attributes = [part.strip() for part in header.split(";")]
    name, _, value = first.partition("=")
    assert name == "publisher_console"
    parts = (a.partition("=") for a in attributes)
    return {"value": value} | {key.lower(): val for key, _, val in parts}


def _visible_text(page: str) -> str:
    body = re.sub(r"<style>.*?</style>", "", page.partition("<body>")[2], flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def _as(console: Console, session: str) -> TestClient:
    """Another browser on the same server, holding only this cookie."""
    client = TestClient(console.client.app, base_url="https://testserver", follow_redirects=False)
    client.headers["cookie"] = f"publisher_console={session}"
    return client


def test_without_a_session_every_page_sends_to_the_login_page(tmp_path: Path, db: Engine) -> None:
    ctx = _context(_site(tmp_path, db), PUBLISHER_CONSOLE_PASSWORD_HASH=PASSWORD_HASH)
    console = Console(ctx, log_in=False)
    for path in ("/console/", "/console/preview", "/console/preview.txt"):
        response = console.get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/console/login")
    token = TOKEN.search(console.get("/console/login").text)
    assert token
    for path in ("/console/send", "/console/test"):
        form = {"form_token": token[1], "to": "x@example.org"}
        response = console.client.post(path, data=form)
        assert (response.status_code, response.headers["location"]) == (303, "/console/login")
    assert list_editions(ctx.engine) == [] and outbox(ctx, "test") == []
    page = console.get("/console/login")
    assert page.status_code == 200 and "<h1>ログイン</h1>" in page.text
    assert 'type="password" id="password" name="password"' in page.text
    text = _visible_text(page.text).replace("Tsumiki Notes", "")
    assert not re.search(r"[A-Za-z]{3,}", text), text  # a Japanese site's page shows no English
    ctx.close()


def test_an_english_site_gets_an_english_login_page(tmp_path: Path, db: Engine) -> None:
    ctx = _context(_site(tmp_path, db, lang="en"), PUBLISHER_CONSOLE_PASSWORD_HASH=PASSWORD_HASH)
    page = Console(ctx, log_in=False).get("/console/login")
    assert '<html lang="en">' in page.text and "<h1>Log in</h1>" in page.text
    assert "ログイン" not in page.text
    ctx.close()


def test_a_wrong_password_is_401_and_logged_without_the_password(
    console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    guess = "a wrong guess 12345"
    with caplog.at_level(logging.INFO, logger="publisher.console"):
        response = console.log_in(guess, client=_as(console, ""))
    assert response.status_code == 401 and "set-cookie" not in response.headers
    assert "パスワードが違います。" in response.text
    [line] = [r.getMessage() for r in caplog.records if "login failed" in r.getMessage()]
    assert line == "console: login failed from testclient: wrong password (1 in a row)"
    assert guess not in caplog.text and PASSWORD not in caplog.text


def test_the_fifth_failure_makes_the_client_wait_even_with_the_right_password(
    console: Console, caplog: pytest.LogCaptureFixture
) -> None:
    browser = _as(console, "")
    with caplog.at_level(logging.WARNING, logger="publisher.console"):
        statuses = [console.log_in(f"wrong guess number {n}", browser) for n in range(5)]
    assert [r.status_code for r in statuses] == [401, 401, 401, 401, 429]
    assert statuses[-1].headers["retry-after"] == "2"
    assert "2 秒後まで受け付けません" in statuses[-1].text
    assert len([r for r in caplog.records if "login failed" in r.getMessage()]) == 5
    console.ctx.wall.advance(timedelta(seconds=1))
    refused = console.log_in(PASSWORD, browser)  # not even checked
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "1")
    assert "set-cookie" not in refused.headers
    console.ctx.wall.advance(timedelta(seconds=1))
    sixth = console.log_in("wrong guess number 6", browser)
    assert (sixth.status_code, sixth.headers["retry-after"]) == (429, "4")  # the wait doubles
    console.ctx.wall.advance(timedelta(seconds=4))
    accepted = console.log_in(PASSWORD, browser)
    assert accepted.status_code == 303 and _cookie(accepted)["value"]
    assert console.log_in("wrong guess again", browser).status_code == 401  # counted afresh


def test_a_guess_spread_over_many_addresses_meets_the_global_ceiling(
    tmp_path: Path, db: Engine
) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from publisher.app.console_access import ConsoleAccess
    from publisher.app.console_throttle import LoginThrottle
    from publisher.web.console import Console as ConsoleApp
    from publisher.web.console_auth import Gate

    ctx = _context(_site(tmp_path, db), PUBLISHER_CONSOLE_PASSWORD_HASH=PASSWORD_HASH)
    access = ConsoleAccess(LoginThrottle(ceiling=3, window=timedelta(minutes=10)))
    app = Starlette(
        routes=[Mount("/console", ConsoleApp(lambda: ctx, Gate(lambda: ctx, access)).app)]
    )
    console = Console(ctx, log_in=False)
    statuses = []
    for n in range(4):  # one guess from each of four addresses
        console.client = client_for(app, host=f"192.0.2.{n + 1}")
        statuses.append(console.log_in(f"wrong guess number {n}"))
    assert [r.status_code for r in statuses[:2]] == [401, 401]
    assert (statuses[2].status_code, statuses[2].headers["retry-after"]) == (429, "600")
    assert statuses[3].status_code == 429  # a new address waits as well, unchecked
    console.client = client_for(app, host="198.51.100.9")
    assert console.log_in().status_code == 429
    ctx.wall.advance(timedelta(minutes=10))
    assert console.log_in().status_code == 303
    ctx.close()


@pytest.mark.parametrize(
    ("base_url", "scheme", "secure"),
    [
        ("https://news.example.com", "https", True),
        ("https://news.example.com", "http", True),  # behind a TLS proxy
        ("http://127.0.0.1:8000", "http", False),
    ],
)
def test_the_session_cookie(
    tmp_path: Path, db: Engine, base_url: str, scheme: str, secure: bool
) -> None:
    site = _site(tmp_path, db, base_url=base_url)
    ctx = _context(site, PUBLISHER_CONSOLE_PASSWORD_HASH=PASSWORD_HASH)
    console = Console(ctx, log_in=False)
    console.client = client_for(application(ctx), scheme=scheme)
    response = console.log_in()
    assert (response.status_code, response.headers["location"]) == (303, "/console/")
    cookie = _cookie(response)
    assert "httponly" in cookie and cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/console" and cookie["max-age"] == str(12 * 3600)
    assert ("secure" in cookie) is secure
    ctx.close()


def test_the_session_lasts_session_hours(tmp_path: Path, db: Engine) -> None:
    site = _site(tmp_path, db, extra="[console]\nsession_hours = 2.0\n")
    ctx = _context(site, PUBLISHER_CONSOLE_PASSWORD_HASH=PASSWORD_HASH)
    console = Console(ctx, log_in=False)
    response = console.log_in()
    assert _cookie(response)["max-age"] == "7200"
    ctx.wall.advance(timedelta(hours=2) - timedelta(seconds=1))
    assert console.get().status_code == 200
    ctx.wall.advance(timedelta(seconds=1))
    expired = console.get()
    assert expired.headers["location"] == "/console/login?done=session_ended"
    assert "ログインの有効期限が切れました" in console.get(expired.headers["location"]).text
    ctx.close()


def test_a_tampered_or_forged_cookie_is_sent_to_the_login_page(console: Console) -> None:
    genuine = console.client.cookies["publisher_console"]
    ident, issued, mac = genuine.split(".")
    later = str(int(issued) + 3600)
    for forged in (
        f"{ident}.{issued}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
        f"{ident}.{later}.{mac}",
        f"{int(ident) + 1}.{issued}.{mac}",
        "not a session",
    ):
        response = _as(console, forged).get("/console/")
        assert response.headers["location"] == "/console/login?done=session_ended", forged
    assert _as(console, genuine).get("/console/").status_code == 200


def test_logging_out_ends_the_session_and_every_copy_of_its_cookie(console: Console) -> None:
    copy = console.client.cookies["publisher_console"]
    page = console.get()
    assert 'action="/console/logout"' in page.text and "ログアウト" in page.text
    response = console.post("/console/logout")
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/console/login?done=logged_out",
    )
    cleared = _cookie(response)
    assert cleared["value"] in ("", '""') and cleared["max-age"] == "0"
    assert "ログアウトしました。" in console.get(response.headers["location"]).text
    assert _as(console, copy).get("/console/").status_code == 303


def test_a_new_password_logs_everyone_out(tmp_path: Path, db: Engine) -> None:
    """A session is bound to the password in force: under a new one it is refused.

    (The password is read when the server starts: a server started with a new one
    also begins with no session; this is the signature's own check.)
    """
    site = _site(tmp_path, db)
    access = ConsoleAccess()
    old = _context(site, PUBLISHER_CONSOLE_PASSWORD_HASH=PASSWORD_HASH)
    login = access.log_in(old, "203.0.113.5", PASSWORD)
    assert login.outcome == "ok" and access.session_valid(old, login.session)
    passphrase = "a brand new passphrase"
    new_hash = argon2.PasswordHasher().hash(passphrase)
    new = _context(site, PUBLISHER_CONSOLE_PASSWORD_HASH=new_hash)
    assert not access.session_valid(new, login.session)
    assert access.log_in(new, "203.0.113.5", PASSWORD).outcome == "wrong"
    assert access.log_in(new, "203.0.113.5", passphrase).outcome == "ok"


def test_a_plain_password_still_works_with_a_warning(
    tmp_path: Path, db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = _context(_site(tmp_path, db), PUBLISHER_CONSOLE_PASSWORD=PASSWORD)
    with caplog.at_level(logging.WARNING, logger="publisher.console"):
        console = Console(ctx)
    assert console.get().status_code == 200
    assert "PUBLISHER_CONSOLE_PASSWORD_HASH" in caplog.text and PASSWORD not in caplog.text
    ctx.close()


@pytest.mark.parametrize(
    ("environ", "key"),
    [
        ({"PUBLISHER_CONSOLE_PASSWORD": "x"}, "PUBLISHER_CONSOLE_PASSWORD"),
        ({"PUBLISHER_CONSOLE_PASSWORD": "eleven char"}, "PUBLISHER_CONSOLE_PASSWORD"),
        ({"PUBLISHER_CONSOLE_PASSWORD_HASH": "hunter2hunter2"}, "PUBLISHER_CONSOLE_PASSWORD_HASH"),
        (
            {
                "PUBLISHER_CONSOLE_PASSWORD_HASH": argon2.PasswordHasher(type=argon2.Type.I).hash(
                    "a"
                )
            },
            "PUBLISHER_CONSOLE_PASSWORD_HASH",
        ),
    ],
)
def test_a_short_password_or_a_bad_hash_stops_the_server_at_start(
    tmp_path: Path, db: Engine, environ: dict[str, str], key: str
) -> None:
    ctx = _context(_site(tmp_path, db), **environ)
    with pytest.raises(ConfigError) as caught:
        application(ctx)
    assert caught.value.key == key
    ctx.close()


@pytest.mark.parametrize(
    ("path", "token", "origin"),
    [
        ("/console/login", "", None),
        ("/console/login", None, "https://evil.example"),
        ("/console/logout", "", None),
        ("/console/logout", None, "https://evil.example"),
        ("/console/logout", None, "null"),
    ],
)
def test_a_cross_site_login_or_logout_is_403(
    console: Console, path: str, token: str | None, origin: str | None
) -> None:
    form = {"form_token": console.token() if token is None else token, "password": PASSWORD}
    response = console.client.post(path, data=form, headers={"origin": origin} if origin else {})
    assert response.status_code == 403 and "set-cookie" not in response.headers
    assert "このフォームは使えません" in response.text
    assert console.get().status_code == 200  # still logged in


def test_every_console_response_carries_the_security_headers(console: Console) -> None:
    stranger = _as(console, "")
    responses = [
        stranger.get("/console/"),
        stranger.get("/console/login"),
        console.log_in("a wrong guess 12345", stranger),
        stranger.post("/console/login", data={"password": PASSWORD}),
        console.log_in(PASSWORD, _as(console, "")),
        console.get("/console/login"),
        console.get(),
        console.get("/console/preview.txt"),
        console.post("/console/test", {"to": "not an address"}),
        console.client.post("/console/send", data={"form_token": "forged"}),
        console.post("/console/logout"),
    ]
    for _ in range(5):  # the right password above started the count afresh
        responses.append(console.log_in("another wrong guess", stranger))
    assert {r.status_code for r in responses} == {200, 303, 401, 403, 422, 429}
    for response in responses:
        for name, value in SECURITY.items():
            assert value in response.headers.get(name, ""), (response.url, name)


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
