"""The editors' web console: the next edition, a preview, a test copy, send now, progress.

Served by ``publisher serve`` under ``/console/`` beside the subscriber pages
(:mod:`publisher.web`); the CLI mounts both. Each route checks access, calls
one use case of :mod:`publisher.app` and renders a page from
``publisher/templates/console/``.

Routes::

    GET  /console/              the dashboard: send in progress, next edition, past editions
    GET  /console/preview       the next edition's HTML as a subscriber gets it (in an iframe)
    GET  /console/preview.txt   its text part
    POST /console/test          send a copy of the next edition to one address
    POST /console/send          create the next edition (or resume one) and deliver it

Access: off (404) unless ``PUBLISHER_CONSOLE_PASSWORD`` is set in the
environment; then HTTP Basic auth with that password (any user name). Every
POST carries a signed, dated form token and is refused (403) without a valid
one or from another origin, so a page elsewhere cannot make an editor's
browser send mail. No GET changes anything. Errors of the core become HTTP
statuses here: :class:`SubscriberError` → 422, other
:class:`PublisherError` → 400 with the reason on the page.

>>> console = Console(lambda: ctx)                    # doctest: +SKIP
>>> app = Starlette(routes=[Mount("/console", console.app)])   # doctest: +SKIP
"""

from __future__ import annotations

import base64
import binascii
import hmac
import html
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from publisher.app import Context, console_send, digest_status, preview_digest
from publisher.errors import PublisherError, StoreError, SubscriberError, TokenError
from publisher.web import headers
from publisher.web.templates import PageTemplates
from publisher.words import say

__all__ = ["PASSWORD_ENV", "Console"]

PASSWORD_ENV = "PUBLISHER_CONSOLE_PASSWORD"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "console"
PAGES = PageTemplates(TEMPLATES)
HEADERS = headers.CONSOLE
PREVIEW_HEADERS = headers.PREVIEW
_NOTICES = ("test_sent", "send_started", "send_running")

Handler = Callable[[Request], Awaitable[Response]]


class Console:
    """The console's routes, its one background send, and its shutdown."""

    def __init__(self, ctx_factory: Callable[[], Context]) -> None:
        self.ctx = ctx_factory
        self.job = console_send.SendJob()
        routes = [
            Route("/", self._guard(self.dashboard), methods=["GET"]),
            Route("/preview", self._guard(self.preview_html), methods=["GET"]),
            Route("/preview.txt", self._guard(self.preview_text), methods=["GET"]),
            Route("/test", self._guard(self.send_test, post=True), methods=["POST"]),
            Route("/send", self._guard(self.send_now, post=True), methods=["POST"]),
        ]
        self.app = Starlette(routes=routes, exception_handlers={StoreError: self._unavailable})

    async def _unavailable(self, request: Request, exc: Exception) -> Response:
        """The database is down: say so in the site's language (503), change nothing."""
        words, lang = _words(self.ctx()), self.ctx().config.site.lang
        title, body = (
            html.escape(words["unavailable_title"]),
            html.escape(words["unavailable_body"]),
        )
        page = (
            f'<!doctype html><html lang="{html.escape(lang)}"><meta charset="utf-8">'
            f"<title>{title}</title><h1>{title}</h1><p>{body}</p></html>"
        )
        return HTMLResponse(page, status_code=503, headers=HEADERS | {"Retry-After": "120"})

    def shutdown(self) -> None:
        """Stop a send in progress after its batch (the server is going down)."""
        self.job.stop(timeout=60)

    def _guard(self, handler: Handler, post: bool = False) -> Handler:
        """Access control around a route: password, then (for POST) origin and form token."""

        async def guarded(request: Request) -> Response:
            ctx = self.ctx()
            password = ctx.environ.get(PASSWORD_ENV, "")
            if not password:
                return PlainTextResponse("Not Found", status_code=404, headers=HEADERS)
            if not _authorised(request, password):
                challenge = {"WWW-Authenticate": 'Basic realm="publisher console", charset="UTF-8"'}
                return PlainTextResponse("401", status_code=401, headers=HEADERS | challenge)
            if post and not await _genuine_post(request, ctx):
                return PlainTextResponse("forbidden", status_code=403, headers=HEADERS)
            return await handler(request)

        return guarded

    async def dashboard(self, request: Request) -> Response:
        ctx = self.ctx()
        notice = request.query_params.get("done", "")
        return await self._dashboard(request, ctx, notice if notice in _NOTICES else "")

    async def preview_html(self, request: Request) -> Response:
        return await self._preview("html", HTMLResponse, PREVIEW_HEADERS)

    async def preview_text(self, request: Request) -> Response:
        return await self._preview("text", PlainTextResponse, HEADERS)

    async def _preview(
        self, fmt: Literal["html", "text"], kind: type[Response], headers: dict[str, str]
    ) -> Response:
        """The next edition's HTML or text part as a subscriber gets it; 404 with why if none."""
        try:
            body = await run_in_threadpool(preview_digest, self.ctx(), fmt)
        except PublisherError as exc:
            return PlainTextResponse(str(exc), status_code=404, headers=headers)
        return kind(body, headers=headers)

    async def send_test(self, request: Request) -> Response:
        ctx = self.ctx()
        to = str((await request.form()).get("to") or "").strip()
        try:
            await run_in_threadpool(console_send.send_test_copy, ctx, to)
        except SubscriberError as exc:
            return await self._dashboard(request, ctx, error=exc.reason, status=422, to=to)
        except PublisherError as exc:
            return await self._dashboard(request, ctx, error=str(exc), status=400, to=to)
        return _back(request, "test_sent", to=to)

    async def send_now(self, request: Request) -> Response:
        ctx = self.ctx()
        started = self.job.start(ctx)
        return _back(request, "send_started" if started else "send_running")

    async def _dashboard(
        self, request: Request, ctx: Context, notice: str = "", **values: Any
    ) -> Response:
        status = values.pop("status", 200)
        upcoming = await run_in_threadpool(console_send.next_edition, ctx)
        editions = await run_in_threadpool(digest_status, ctx)
        state = self.job.snapshot()
        site = ctx.config.site
        html = PAGES.render(
            "dashboard.html.j2",
            lang=site.lang,
            t=_words(ctx),
            site={"title": site.title, "url": site.root_url + "/"},
            tz=site.tz,
            next=upcoming,
            editions=editions[:20],
            job=state,
            result=say(state.report.key, site.lang, **state.report.values) if state.report else "",
            notice=notice,
            notice_to=request.query_params.get("to", ""),
            form_token=console_send.form_token(ctx),
            base=_base(request),
            to=values.pop("to", ""),
            error=values.pop("error", ""),
        )
        return HTMLResponse(html, status_code=status, headers=HEADERS)


def _authorised(request: Request, password: str) -> bool:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    given = decoded.partition(":")[2]
    return hmac.compare_digest(given.encode(), password.encode())


async def _genuine_post(request: Request, ctx: Context) -> bool:
    """The form token of a console page, and (when the browser says) our own origin."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
        return False
    token = str((await request.form()).get("form_token") or "")
    try:
        console_send.check_form_token(ctx, token)
    except TokenError:
        return False
    return True


def _back(request: Request, done: str, **more: str) -> Response:
    """303 to the dashboard: reloading it sends nothing again."""
    url = f"{_base(request)}?{urlencode({'done': done, **more})}"
    return RedirectResponse(url, status_code=303, headers=HEADERS)


def _base(request: Request) -> str:
    """The console's own path, wherever it is mounted (``/console/``)."""
    return str(request.scope.get("root_path", "")).rstrip("/") + "/"


def _words(ctx: Context) -> dict[str, str]:
    return PAGES.words(ctx.config.site.lang)
