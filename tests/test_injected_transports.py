"""The use cases take their transports, as httpx takes ``transport=``: no patching needed.

``send_digest``/``send_test`` take a mail transport (here the real
``MemoryTransport``), ``refresh_feeds`` an httpx transport for the WebSub hub
(here ``httpx.MockTransport``). Nothing is written to the outbox folder and
nothing leaves the process.
"""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import httpx
from sqlalchemy import Engine
from web_support import make_context, make_site

from publisher.app.runner_jobs import refresh_feeds
from publisher.app.sending import send_digest, send_test
from publisher.delivery import MemoryTransport
from publisher.store import add_subscriber


def test_send_digest_delivers_through_the_transport_it_is_given(tmp_path: Path, db: Engine) -> None:
    ctx = make_context(make_site(tmp_path, db.url.render_as_string(hide_password=False)))
    try:
        for address in ("a@example.org", "b@example.org"):
            add_subscriber(ctx.engine, address, status="active", now=ctx.clock())
        copy = MemoryTransport()
        send_test(ctx, "editor@example.org", transport=copy)
        assert [m.recipient for m in copy.sent] == ["editor@example.org"]
        mail = MemoryTransport()
        report = send_digest(ctx, transport=mail)
        assert report.outcome == "finished"
        assert sorted(m.recipient for m in mail.sent) == ["a@example.org", "b@example.org"]
        parsed = email.message_from_bytes(mail.sent[0].data, policy=email.policy.default)
        assert parsed["To"] == mail.sent[0].recipient
    finally:
        ctx.close()
    assert not (ctx.var / "outbox").exists()  # the .eml transport was never made


def test_refresh_feeds_pings_the_hub_through_the_transport_it_is_given(
    tmp_path: Path, db: Engine
) -> None:
    site = make_site(tmp_path, db.url.render_as_string(hide_password=False))
    (site / "publisher.toml").write_text(
        (site / "publisher.toml")
        .read_text(encoding="utf-8")
        .replace("[paths]", '[feeds]\nwebsub_hub = "https://hub.example.net/"\n[paths]', 1),
        encoding="utf-8",
    )
    seen: list[httpx.Request] = []

    def hub(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    outcome = refresh_feeds(make_context(site), tmp_path / "out", httpx.MockTransport(hub))
    assert not [p for p in outcome.problems if "WebSub" in p]
    assert seen and {r.url.host for r in seen} == {"hub.example.net"}
    assert all(b"hub.mode=publish" in r.content for r in seen)
    assert len(seen) == len([p for p in outcome.changed if not p.endswith(".xsl")])
