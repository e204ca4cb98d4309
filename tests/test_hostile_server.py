"""The security review's attacks on a real ``publisher serve`` (uvicorn in its own process).

Each test starts ``python -m publisher serve`` on 127.0.0.1 and attacks it as
the review did: bodies streamed without (or with a lying) length, a huge
multipart file, rotating ``X-Forwarded-For`` addresses. What is asserted is
what can be seen from outside: the status line, the rows in the database,
the ``.eml`` files written and the server process's resident memory
(``VmHWM``, its peak, from ``/proc``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from smtp_server import free_port
from sqlalchemy import Engine, func, select
from web_support import SECRET, make_context, make_site, outbox

from publisher.app.context import Context
from publisher.store import add_subscriber
from publisher.store.schema import subscribers
from publisher.tokens import sign

MB = 1 << 20
STAMP = 'name="stamp" value="'
pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="reads the server's memory from /proc"
)


class Server:
    """A ``publisher serve`` process and its address."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process, self.port = process, port
        self.base = f"http://127.0.0.1:{port}"

    def peak_rss(self) -> int:
        """The process's peak resident memory so far, in bytes (VmHWM)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text(encoding="ascii")
        line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024

    def exchange(self, head: str, chunks: Iterable[bytes] = ()) -> tuple[int, int]:
        """Send ``head`` then ``chunks`` (as long as the server reads them); the status it
        answered and how many body bytes it let us send."""
        sent = 0
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            sock.sendall(head.encode("latin-1"))
            try:
                for chunk in chunks:
                    sock.sendall(chunk)
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered and closed: what matters is what it answered
            return _status(sock), sent

    def get(self, path: str, **headers: str) -> tuple[int, str]:
        request = urllib.request.Request(self.base + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def post(self, path: str, body: str, **headers: str) -> tuple[int, str]:
        request = urllib.request.Request(
            self.base + path,
            data=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


def _status(sock: socket.socket) -> int:
    data = b""
    try:
        while b"\r\n" not in data:
            more = sock.recv(4096)
            if not more:
                break
            data += more
    except (ConnectionResetError, TimeoutError):
        pass
    assert data.startswith(b"HTTP/1.1 "), data[:200]
    return int(data.split()[1])


@contextmanager
def serving(site: Path) -> Iterator[Server]:
    port = free_port()
    env = {**os.environ, "PUBLISHER_SECRET": SECRET}
    command = [sys.executable, "-m", "publisher", "serve", "--site", str(site), "--port", str(port)]
    log = site.parent / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, port)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text(encoding="utf-8")
            try:
                if server.get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "publisher serve did not start"
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)


def _site(tmp_path: Path, db: Engine, web: str = "") -> tuple[Path, Context]:
    url = db.url.render_as_string(hide_password=False)
    site = make_site(tmp_path, url, extra="")
    toml = site / "publisher.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[web]\n", f"[web]\n{web}"), "utf-8")
    return site, make_context(site)


def _fields(count: int, size: int) -> Iterator[bytes]:
    """A form-urlencoded body of ``count`` fields of ``size`` bytes each, as HTTP chunks."""
    value = b"a" * size
    for n in range(count):
        part = (b"&" if n else b"") + f"f{n}=".encode() + value
        yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
    yield b"0\r\n\r\n"


def test_a_streamed_body_without_a_length_is_cut_off_and_memory_stays_bounded(
    tmp_path: Path, db: Engine
) -> None:
    """The review's 950 fields of 1 MB to /unsubscribe/<bogus>: here 300 of them, chunked."""
    site, _ctx = _site(tmp_path, db)
    with serving(site) as server:
        before = server.peak_rss()
        head = (
            "POST /unsubscribe/1.bogus HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        )
        status, sent = server.exchange(head, _fields(300, MB - 1024))
        grown = server.peak_rss() - before
        assert grown < 40 * MB, f"the server grew by {grown // MB} MB"
        assert status == 400  # the token is checked first: the body is never read
        assert sent < 300 * MB  # and the connection is closed, not drained
        ann = add_subscriber(_ctx.engine, "ann@example.org", status="active", now=_ctx.clock())
        path = f"/unsubscribe/{sign(SECRET.encode(), 'unsubscribe', ann.id)}"
        status, sent = server.exchange(
            head.replace("/unsubscribe/1.bogus", path), _fields(300, MB - 1024)
        )
        assert status == 413  # a genuine token: read until the limit, then 413
        assert sent < 300 * MB
        assert server.peak_rss() - before < 40 * MB
    _ctx.engine.dispose()


def test_a_large_declared_body_is_refused_unread(tmp_path: Path, db: Engine) -> None:
    """A 200 MB multipart file part (and a Content-Length that says so) gets 413 at once."""
    site, ctx = _site(tmp_path, db)
    ann = add_subscriber(ctx.engine, "ann@example.org", status="active", now=ctx.clock())
    path = f"/unsubscribe/{sign(SECRET.encode(), 'unsubscribe', ann.id)}"
    with serving(site) as server:
        before = server.peak_rss()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: multipart/form-data; boundary=xyz\r\n"
            f"Content-Length: {200 * MB}\r\n\r\n"
        )
        part = b'--xyz\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n\r\n'
        status, sent = server.exchange(head, iter([part, *([b"\0" * MB] * 200)]))
        assert server.peak_rss() - before < 40 * MB
        assert status == 413
        assert sent < 200 * MB
    with ctx.engine.connect() as conn:
        assert conn.execute(select(subscribers.c.status)).scalar_one() == "active"
    ctx.engine.dispose()


def _stamp(server: Server, **headers: str) -> str:
    status, page = server.get("/subscribe", **headers)
    assert status == 200
    return page.split(STAMP, 1)[1].split('"', 1)[0]


def _sign_ups(server: Server, count: int) -> list[int]:
    """``count`` sign-ups, each from a new X-Forwarded-For address; their statuses."""
    statuses = []
    for n in range(count):
        hop = {"X-Forwarded-For": f"198.51.{n // 250}.{n % 250 + 1}"}
        body = f"email=reader{n}%40example.org&stamp={_stamp(server, **hop)}"
        statuses.append(server.post("/subscribe", body, **hop)[0])
    return statuses


def _pending(engine: Engine) -> int:
    with engine.connect() as conn:
        query = select(func.count()).where(subscribers.c.status == "pending")
        return int(conn.execute(query).scalar_one())


def test_x_forwarded_for_from_127_0_0_1_is_not_trusted_by_default(
    tmp_path: Path, db: Engine
) -> None:
    """Rotating addresses from the same host: one client, 20 sign-ups an hour."""
    site, ctx = _site(tmp_path, db)
    with serving(site) as server:
        statuses = _sign_ups(server, 25)
    assert statuses == [200] * 20 + [429] * 5
    assert _pending(ctx.engine) == 20
    assert len(outbox(ctx)) == 20
    ctx.engine.dispose()


def test_trusted_proxies_name_the_client_and_the_site_takes_pending_per_hour(
    tmp_path: Path, db: Engine
) -> None:
    web = 'trusted_proxies = ["127.0.0.1", "::1"]\npending_per_hour = 6\n'
    site, ctx = _site(tmp_path, db, web)
    with serving(site) as server:
        statuses = _sign_ups(server, 9)  # nine clients, each well under its own limit
        hop = {"X-Forwarded-For": "203.0.113.200"}
        body = f"email=late%40example.org&stamp={_stamp(server, **hop)}"
        status, page = server.post("/subscribe", body, **hop)
    assert statuses == [200] * 6 + [429] * 3
    assert status == 429 and "ただいま登録のお申し込みが集中しています" in page
    assert _pending(ctx.engine) == 6
    assert len(outbox(ctx)) == 6  # no mail past the cap
    ctx.engine.dispose()
