"""publisher.web: the subscriber pages through Starlette's TestClient, on a real database.

Confirmation mails go through the default transport (no [smtp] host: ``.eml``
files under var/outbox/confirm), read back as the subscriber would.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient
from web_support import SECRET, confirm_link, make_context, make_site, outbox, read_eml

from publisher.app.context import Context
from publisher.app.sending import send_digest
from publisher.models import Subscriber
from publisher.store import add_subscriber, find_subscriber, get_subscriber
from publisher.store.outbox import OutboxStore
from publisher.tokens import sign, sign_dated
from publisher.web import create_app

TITLE = re.compile(r"<h1>(.*?)</h1>", re.S)
STAMP = re.compile(r'name="stamp" value="([^"]+)"')


class Pages:
    """A TestClient on the app, with the context it serves."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.client = TestClient(create_app(lambda: ctx))

    def subscribe(self, email: str, *categories: str, name: str = "") -> str:
        form = self.client.get("/subscribe")
        assert form.status_code == 200
        data = {"email": email, "name": name, "category": list(categories)}
        response = self.client.post("/subscribe", data={**data, "stamp": _stamp(form.text)})
        assert response.status_code == 200, response.text
        return response.text

    def subscriber(self, email: str) -> Subscriber:
        found = find_subscriber(self.ctx.engine, email)
        assert found is not None
        return found

    def add(self, email: str, **values: object) -> Subscriber:
        return add_subscriber(
            self.ctx.engine, email, status="active", now=self.ctx.clock(), **values
        )  # type: ignore[arg-type]

    def token(self, purpose: str, sub: Subscriber) -> str:
        if purpose == "confirm":  # dated: it expires after [web] confirm_days
            return sign_dated(SECRET.encode(), purpose, sub.id, int(self.ctx.clock().timestamp()))
        return sign(SECRET.encode(), purpose, sub.id)


def _stamp(html: str) -> str:
    match = STAMP.search(html)
    assert match
    return match[1]


def _title(html: str) -> str:
    match = TITLE.search(html)
    assert match, html
    return match[1].strip()


def _forge(token: str) -> str:
    """The token with one character of its signature changed."""
    ident, _, mac = token.partition(".")
    i = len(mac) // 2
    return f"{ident}.{mac[:i]}{'B' if mac[i] != 'B' else 'C'}{mac[i + 1 :]}"


@pytest.fixture
def pages(tmp_path: Path, db: Engine) -> Iterator[Pages]:
    site = make_site(tmp_path, db.url.render_as_string(hide_password=False))
    ctx = make_context(site)
    yield Pages(ctx)
    ctx.engine.dispose()


def test_subscribe_mails_a_confirm_link_that_activates(pages: Pages) -> None:
    page = pages.subscribe("ann@example.org", "投資分析", "Policy", name="山田 花子")
    assert _title(page) == "メールをご確認ください"
    assert "ann@example.org" in page
    ann = pages.subscriber("ann@example.org")
    assert (ann.status, ann.name, ann.categories) == (
        "pending",
        "山田 花子",
        ("投資分析", "Policy"),
    )
    [eml] = outbox(pages.ctx)
    message = read_eml(eml)
    assert message["To"] == "ann@example.org"
    assert message["From"] == "つみきノート <news@blog.example.com>"
    assert message["Subject"] == "【Tsumiki Notes】ニュースレター登録のご確認"
    assert message["Date"] and message["Message-ID"].endswith("@blog.example.com>")
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    link = confirm_link(message)
    assert link.startswith("https://news.example.com/confirm/")
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f'href="{link}"' in html and "山田" not in html  # nothing typed into the form is mailed
    asked = pages.client.get(urlsplit(link).path)  # what a mail scanner sees: nothing happens
    assert asked.status_code == 200 and _title(asked.text) == "購読の確認"
    assert '<form method="post"' in asked.text and "ann@example.org" in asked.text
    assert pages.subscriber("ann@example.org").status == "pending"
    confirmed = pages.client.post(urlsplit(link).path)
    assert confirmed.status_code == 200
    assert _title(confirmed.text) == "登録が完了しました"
    assert pages.subscriber("ann@example.org").status == "active"
    again = pages.client.get(urlsplit(link).path)  # a second click changes nothing
    assert again.status_code == 200 and _title(again.text) == "登録が完了しました"
    assert pages.client.post(urlsplit(link).path).status_code == 200
    assert pages.subscriber("ann@example.org").status == "active"


def test_the_form_does_not_tell_who_is_subscribed(pages: Pages) -> None:
    pages.add("ann@example.org")
    known = pages.subscribe("ann@example.org")
    unknown = pages.subscribe("bob@example.org")
    assert known.replace("ann@", "bob@") == unknown
    assert [read_eml(p)["To"] for p in outbox(pages.ctx)] == ["bob@example.org"]
    assert pages.subscriber("ann@example.org").status == "active"


def test_subscribe_form_lists_the_site_categories_in_japanese(pages: Pages) -> None:
    response = pages.client.get("/subscribe")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="ja">' in html and _title(html) == "ニュースレターの購読"
    assert "メールアドレス" in html and "登録する" in html
    for category in ("投資分析", "業界別AI活用", "技術解説", "Engineering", "Policy"):
        assert f'name="category" value="{category}"' in html
    assert '<label for="email">' in html and 'autocomplete="email"' in html


def test_an_invalid_address_is_422_with_the_reason(pages: Pages) -> None:
    form = pages.client.get("/subscribe")
    data = {"email": "not-an-address", "stamp": _stamp(form.text)}
    response = pages.client.post("/subscribe", data=data)
    assert response.status_code == 422
    assert "メールアドレスをご確認ください" in response.text and "@-sign" in response.text
    assert 'value="not-an-address"' in response.text and 'role="alert"' in response.text
    assert outbox(pages.ctx) == []


@pytest.mark.parametrize("stamp", [None, "", "12345", "1763596800.AAAAAAAAAAAAAAAAAAAAAA"])
def test_a_post_without_a_served_form_is_rejected(pages: Pages, stamp: str | None) -> None:
    data = {"email": "bot@example.org"} | ({} if stamp is None else {"stamp": stamp})
    response = pages.client.post("/subscribe", data=data)
    assert response.status_code == 400
    assert "フォームの有効期限が切れました" in response.text
    assert find_subscriber(pages.ctx.engine, "bot@example.org") is None
    assert outbox(pages.ctx) == []


def test_an_old_form_is_rejected(tmp_path: Path, db: Engine) -> None:
    site = make_site(tmp_path, db.url.render_as_string(hide_password=False))
    earlier = make_context(site, now=make_context(site).clock().replace(year=2024))
    stamp = _stamp(Pages(earlier).client.get("/subscribe").text)
    pages = Pages(make_context(site))
    response = pages.client.post("/subscribe", data={"email": "a@example.org", "stamp": stamp})
    assert response.status_code == 400
    assert find_subscriber(pages.ctx.engine, "a@example.org") is None
    pages.ctx.engine.dispose()
    earlier.engine.dispose()


def test_get_unsubscribe_only_asks_post_unsubscribes(pages: Pages) -> None:
    ann = pages.add("ann@example.org")
    url = f"/unsubscribe/{pages.token('unsubscribe', ann)}"
    page = pages.client.get(url)
    assert page.status_code == 200
    assert _title(page.text) == "配信停止"
    assert '<form method="post"' in page.text and "配信を停止する" in page.text
    assert "ann@example.org" in page.text
    assert pages.subscriber("ann@example.org").status == "active"
    done = pages.client.post(url)
    assert done.status_code == 200 and _title(done.text) == "配信を停止しました"
    assert pages.subscriber("ann@example.org").status == "unsubscribed"
    later = pages.client.get(url)  # the page now says so, and offers no button
    assert "すでに配信停止済み" in later.text and "<button" not in later.text


def test_one_click_unsubscribe_is_idempotent(pages: Pages) -> None:
    ann = pages.add("ann@example.org")
    url = f"/unsubscribe/{pages.token('unsubscribe', ann)}"
    for _ in range(2):
        response = pages.client.post(url, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text == "unsubscribed\n"
        assert pages.subscriber("ann@example.org").status == "unsubscribed"


def test_one_click_as_multipart_form_data(pages: Pages) -> None:
    # RFC 8058 §3.1 allows either form encoding.
    ann = pages.add("ann@example.org")
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
        b"One-Click\r\n--xyz--\r\n"
    )
    response = pages.client.post(
        f"/unsubscribe/{pages.token('unsubscribe', ann)}",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert (response.status_code, response.text) == (200, "unsubscribed\n")
    assert pages.subscriber("ann@example.org").status == "unsubscribed"


REQUESTS = [
    ("GET", "confirm", None),
    ("GET", "unsubscribe", None),
    ("POST", "unsubscribe", {}),
    ("POST", "unsubscribe", {"List-Unsubscribe": "One-Click"}),
    ("GET", "preferences", None),
    ("POST", "preferences", {"category": "Policy"}),
]


@pytest.mark.parametrize(("method", "purpose", "data"), REQUESTS)
def test_a_forged_token_is_400_and_changes_nothing(
    pages: Pages, method: str, purpose: str, data: dict[str, str] | None
) -> None:
    pending = add_subscriber(pages.ctx.engine, "p@example.org", now=pages.ctx.clock())
    active = pages.add("a@example.org", categories=("投資分析",))
    for sub in (pending, active):
        real = pages.token(purpose, sub)
        forged = {
            _forge(real),
            real[:-1],
            real.replace(f"{sub.id}.", f"{sub.id + 1}."),
            pages.token("other-purpose", sub),
        }
        for token in sorted(forged):
            response = pages.client.request(method, f"/{purpose}/{token}", data=data)
            assert response.status_code == 400, token
            # The token is checked before the body is read, one-click or not: the page.
            assert _title(response.text) == "このリンクは無効です"
    assert get_subscriber(pages.ctx.engine, pending.id) == pending
    assert get_subscriber(pages.ctx.engine, active.id) == active


def test_a_token_for_another_purpose_is_400(pages: Pages) -> None:
    ann = add_subscriber(pages.ctx.engine, "ann@example.org", now=pages.ctx.clock())
    assert pages.client.get(f"/confirm/{pages.token('unsubscribe', ann)}").status_code == 400
    assert pages.client.post(f"/unsubscribe/{pages.token('confirm', ann)}").status_code == 400
    assert pages.subscriber("ann@example.org").status == "pending"


def test_a_link_of_a_removed_subscriber_is_400(pages: Pages) -> None:
    from publisher.store import remove_subscriber

    ann = pages.add("ann@example.org")
    remove_subscriber(pages.ctx.engine, "ann@example.org")
    response = pages.client.get(f"/unsubscribe/{pages.token('unsubscribe', ann)}")
    assert response.status_code == 400


def test_an_unsubscribed_subscriber_gets_no_later_digest(pages: Pages) -> None:
    pages.subscribe("ann@example.org")
    pages.subscribe("bob@example.org")
    for eml in outbox(pages.ctx):
        pages.client.post(urlsplit(confirm_link(read_eml(eml))).path)
    bob = pages.subscriber("bob@example.org")
    response = pages.client.post(
        f"/unsubscribe/{pages.token('unsubscribe', bob)}", data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    # Bob's old confirm link does not bring him back.
    [bob_mail] = [p for p in outbox(pages.ctx) if read_eml(p)["To"] == "bob@example.org"]
    again = pages.client.post(urlsplit(confirm_link(read_eml(bob_mail))).path)
    assert again.status_code == 200 and _title(again.text) == "登録されていません"
    assert pages.subscriber("bob@example.org").status == "unsubscribed"
    report = send_digest(pages.ctx)
    assert report.edition is not None
    assert report.counts == {"pending": 0, "sending": 0, "sent": 1, "failed": 0}
    assert [read_eml(p)["To"] for p in outbox(pages.ctx, "edition-1")] == ["ann@example.org"]
    queue = OutboxStore(pages.ctx.engine, "test")
    assert queue.counts(report.edition.id)["sent"] == 1


def test_preferences_change_the_categories(pages: Pages) -> None:
    ann = pages.add("ann@example.org", categories=("投資分析",))
    url = f"/preferences/{pages.token('preferences', ann)}"
    page = pages.client.get(url)
    assert page.status_code == 200 and _title(page.text) == "配信設定"
    assert 'value="投資分析" checked' in page.text and 'value="Policy">' in page.text
    saved = pages.client.post(url, data={"category": ["Policy", "Engineering", "no-such"]})
    assert saved.status_code == 200 and "保存しました" in saved.text
    assert 'value="Policy" checked' in saved.text and 'value="投資分析">' in saved.text
    assert pages.subscriber("ann@example.org").categories == ("Policy", "Engineering")
    pages.client.post(url, data={})  # none chosen: every category
    assert pages.subscriber("ann@example.org").categories == ()
    assert pages.subscriber("ann@example.org").status == "active"


def test_token_pages_leak_no_referrer_and_are_not_cached(pages: Pages) -> None:
    ann = pages.add("ann@example.org")
    response = pages.client.get(f"/unsubscribe/{pages.token('unsubscribe', ann)}")
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_healthz(pages: Pages) -> None:
    response = pages.client.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok")


def test_english_pages_and_mail_when_the_site_is_english(tmp_path: Path, db: Engine) -> None:
    site = make_site(tmp_path, db.url.render_as_string(hide_password=False), lang="en")
    pages = Pages(make_context(site))
    form = pages.client.get("/subscribe").text
    assert '<html lang="en">' in form and _title(form) == "Subscribe to the newsletter"
    page = pages.subscribe("ann@example.org")
    assert _title(page) == "Check your inbox"
    [eml] = outbox(pages.ctx)
    message = read_eml(eml)
    assert message["Subject"] == "Confirm your subscription to Tsumiki Notes"
    asked = pages.client.get(urlsplit(confirm_link(message)).path)
    assert _title(asked.text) == "Confirm your subscription"
    assert "The link works for 7 days." in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    confirmed = pages.client.post(urlsplit(confirm_link(message)).path)
    assert _title(confirmed.text) == "Subscription confirmed"
    bad = pages.client.get("/confirm/1.forged")
    assert (bad.status_code, _title(bad.text)) == (400, "This link is not valid")
    pages.ctx.engine.dispose()


def test_a_mail_server_that_is_down_is_503(tmp_path: Path, db: Engine) -> None:
    with socket.socket() as closed:  # a port with nobody listening: connection refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    extra = f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\ntimeout = 2\n'
    site = make_site(tmp_path, db.url.render_as_string(hide_password=False), extra=extra)
    pages = Pages(make_context(site))
    form = pages.client.get("/subscribe").text
    response = pages.client.post(
        "/subscribe", data={"email": "ann@example.org", "stamp": _stamp(form)}
    )
    assert response.status_code == 503 and _title(response.text) == "エラーが発生しました"
    assert pages.subscriber("ann@example.org").status == "pending"  # subscribing again resends
    pages.ctx.engine.dispose()


def test_serve_stops_before_listening_when_real_mail_has_no_secret(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from publisher.cli import main

    extra = '[smtp]\nhost = "smtp.example.com"\n'
    site = make_site(tmp_path, f"sqlite:///{tmp_path / 'p.db'}", extra=extra)
    env = {"PUBLISHER_SECRET": ""}
    result = CliRunner().invoke(main, ["serve", "--site", str(site), "--port", "1"], env=env)
    assert result.exit_code == 2 and "PUBLISHER_SECRET" in result.output


def test_one_client_may_subscribe_subscribe_per_hour_times(tmp_path: Path, db: Engine) -> None:
    site = make_site(tmp_path, db.url.render_as_string(hide_password=False))
    toml = site / "publisher.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace("[web]\n", "[web]\nsubscribe_per_hour = 3\n"),
        encoding="utf-8",
    )
    pages = Pages(make_context(site))
    for n in range(3):
        pages.subscribe(f"reader{n}@example.org")
    form = pages.client.get("/subscribe")
    refused = pages.client.post(
        "/subscribe", data={"email": "reader3@example.org", "stamp": _stamp(form.text)}
    )
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "3600"  # the clock stands still in this test
    assert "60 分後にもう一度お試しください" in refused.text
    assert find_subscriber(pages.ctx.engine, "reader3@example.org") is None
    assert len(outbox(pages.ctx)) == 3
    pages.ctx.wall.advance(timedelta(hours=1))  # the first three leave the window
    pages.subscribe("reader3@example.org")
    assert len(outbox(pages.ctx)) == 4
    pages.ctx.engine.dispose()


def test_an_expired_confirm_link_is_410_and_subscribes_no_one(pages: Pages) -> None:
    pages.subscribe("ann@example.org")
    [eml] = outbox(pages.ctx)
    path = urlsplit(confirm_link(read_eml(eml))).path
    pages.ctx.wall.advance(timedelta(days=8))
    for response in (pages.client.get(path), pages.client.post(path)):
        assert response.status_code == 410
        assert _title(response.text) == "このリンクは有効期限切れです"
        assert "有効期間は 7 日です" in response.text
    assert pages.subscriber("ann@example.org").status == "pending"
