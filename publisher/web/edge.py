"""What every request and response of the web edge goes through, whatever route answers it.

:class:`Edge` is ASGI middleware around the subscriber pages and the console:

- the client is the address that connected, or, from a ``[web] trusted_proxies``
  address only, the one its ``X-Forwarded-For`` names (:func:`forwarded_client`);
- a request body larger than ``[web] max_body_bytes`` is never read: a larger
  ``Content-Length`` gets 413 at once, and a body that grows past the limit
  while it streams (no or a lying length) stops being read and gets 413;
- every response carries the security headers (:mod:`publisher.web.headers`;
  a page's own are kept), a redirect never points at another host than
  ``[web] base_url``'s (it becomes relative), and a 500 is the site's error
  page, never a traceback.

>>> app = Edge(starlette_app, lambda: settings.web, lambda status: "<p>…</p>")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from publisher.config import WebSettings
from publisher.web import headers
from publisher.web.limits import forwarded_client

__all__ = ["Edge", "safe_location"]

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]
_FALLBACK = "<!DOCTYPE html><title>{status}</title><h1>{status}</h1>"


class BodyTooLarge(Exception):
    """The request body grew past ``[web] max_body_bytes`` while it was read."""


class Edge:
    """Wraps an ASGI app; ``settings`` and ``page`` (HTML for a status) are asked per request."""

    def __init__(
        self, app: ASGIApp, settings: Callable[[], WebSettings], page: Callable[[int], str]
    ) -> None:
        self.app, self.settings, self.page = app, settings, page

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        web = self.settings()
        scope = dict(scope, client=_client(scope, web.trusted_proxies))
        declared = _declared_length(scope)
        body = _Body(receive, web.max_body_bytes, declared != 0 or _chunked(scope))
        response = _Response(send, self._page, web.base_url, body)
        if declared is None or declared > web.max_body_bytes:
            await response.error(400 if declared is None else 413)
            return
        try:
            await self.app(scope, body.receive, response.send)
        except Exception:
            if not (body.exceeded or response.started):
                await response.error(500)
            if not body.exceeded:
                raise  # logged by the server; the visitor got the error page
        if body.exceeded and not response.started:
            await response.error(413)

    def _page(self, status: int) -> str:
        try:
            return self.page(status)
        except Exception:  # the settings or templates are broken: still no traceback
            return _FALLBACK.format(status=status)


class _Body:
    """The request's ``receive``, counting: past ``limit`` bytes it stops with BodyTooLarge."""

    def __init__(self, receive: Receive, limit: int, expected: bool) -> None:
        self._receive, self.limit = receive, limit
        self.seen, self.exceeded = 0, False
        self.unread = expected
        """Whether some of the body was not read (yet)."""

    async def receive(self) -> Message:
        if self.exceeded:
            raise BodyTooLarge
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                self.exceeded = True
                raise BodyTooLarge
            self.unread = bool(message.get("more_body"))
        else:
            self.unread = False  # the client went away
        return message


class _Response:
    """The app's ``send``: headers added, redirects kept on this site, a 500 replaced."""

    def __init__(self, send: Send, page: Callable[[int], str], base_url: str, body: _Body) -> None:
        self._send, self._page, self.base_url, self.body = send, page, base_url, body
        self.started = self.replaced = self.answered = False

    async def send(self, message: Message) -> None:
        if self.body.exceeded and not self.answered:
            return  # the body was too large: the app's answer to that is not sent, a 413 is
        if message["type"] == "http.response.start":
            if message["status"] == 500:
                self.replaced = True
                await self.error(500)
                return
            self.started = True
            message = dict(message, headers=self._headers(message.get("headers", [])))
        elif message["type"] == "http.response.body" and self.replaced:
            return  # the app's own 500 body
        await self._send(message)

    async def error(self, status: int) -> None:
        """Answer ``status`` with the site's page for it (if nothing was sent yet)."""
        if self.started:
            return
        self.started = self.answered = True
        body = self._page(status).encode()
        extra = [(b"content-type", b"text/html; charset=utf-8")]
        extra += [(b"content-length", str(len(body)).encode())]
        if status in (400, 413):
            self.body.unread = True  # the rest of the body is not read
        start = {"type": "http.response.start", "status": status, "headers": self._headers(extra)}
        await self._send(start)
        await self._send({"type": "http.response.body", "body": body})

    def _headers(self, raw: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        names = {name.lower() for name, _ in raw}
        out = [
            (name, safe_location(value.decode("latin-1"), self.base_url).encode("latin-1"))
            if name.lower() == b"location"
            else (name, value)
            for name, value in raw
        ]
        for name, value in headers.PAGES.items():
            key = name.lower().encode("latin-1")
            if key == b"x-frame-options" and b"content-security-policy" in names:
                continue  # a page that set its own CSP said who may frame it (frame-ancestors)
            if key not in names:
                out.append((key, value.encode("latin-1")))
        if self.body.unread and b"connection" not in names:
            out.append((b"connection", b"close"))  # so the server stops taking the rest
        return out


def safe_location(location: str, base_url: str) -> str:
    """A redirect target that stays on this site: relative, unless it is ``base_url``'s origin.

    >>> safe_location("http://evil.example/subscribe", "https://news.example.com")
    '/subscribe'
    >>> safe_location("//evil.example/x?a=1", "https://news.example.com")
    '/evil.example/x?a=1'
    >>> safe_location("https://news.example.com/console/", "https://news.example.com")
    'https://news.example.com/console/'
    """
    parts, own = urlsplit(location.strip()), urlsplit(base_url)
    if parts.netloc and (parts.scheme, parts.netloc) == (own.scheme, own.netloc):
        return location
    if not parts.netloc and not parts.path.startswith(("//", "/\\", "\\")):
        return location if parts.path.startswith("/") or not parts.scheme else "/"
    path = "/" + (parts.netloc + parts.path if not parts.scheme else parts.path).lstrip("/\\")
    return urlunsplit(("", "", path, parts.query, ""))


def _client(scope: MutableMapping[str, Any], trusted: tuple[str, ...]) -> tuple[str, int] | None:
    peer = scope.get("client")
    forwarded = [
        value.decode("latin-1") for name, value in scope["headers"] if name == b"x-forwarded-for"
    ]
    host = forwarded_client(peer[0] if peer else None, forwarded, trusted, peer[1] if peer else 1)
    if host is None:
        return None
    return (host, peer[1] if peer and host == peer[0] else 0)


def _chunked(scope: MutableMapping[str, Any]) -> bool:
    return any(name == b"transfer-encoding" for name, _ in scope["headers"])


def _declared_length(scope: MutableMapping[str, Any]) -> int | None:
    """The Content-Length (0 when there is none); None when it is not a number."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 19 else None
    return 0
