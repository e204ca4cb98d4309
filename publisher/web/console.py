"""The editors' web console: the next edition, a preview, a test copy, send now, progress.

Served by ``publisher serve`` under ``/console/`` beside the subscriber pages
(:mod:`publisher.web`); the CLI mounts both. Each route checks access, calls
one use case of :mod:`publisher.app` and renders a page from
``templates/console/``.

Routes::

    GET  /console/login         the login page; POST to log in, POST /console/logout to leave
    GET  /console/              the dashboard: send in progress, next edition, past editions
    GET  /console/preview       the next edition's HTML as a subscriber gets it (in an iframe)
    GET  /console/preview.txt   its text part
    POST /console/test          send a copy of the next edition to one address
    POST /console/send          create the next edition (or resume one) and deliver it

Access (:mod:`publisher.web.console_auth`): off (404) unless a password is
configured (``PUBLISHER_CONSOLE_PASSWORD_HASH``, ``[console] password_hash``,
or a plain ``PUBLISHER_CONSOLE_PASSWORD``); then a login page, a session
cookie and logout, with failed logins throttled. Every POST carries a signed,
dated form token and is refused (403) without a valid one or from another
origin, so a page elsewhere cannot make an editor's browser send mail. No GET
changes anything. Errors of the core become HTTP statuses here:
:class:`SubscriberError` → 422, other :class:`PublisherError` → 400 with the
reason on the page.

>>> console = Console(lambda: ctx)                    # doctest: +SKIP
>>> app = Starlette(routes=[Mount("/console", console.app)])   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from publisher.app import Context, console_send, digest_status, preview_digest
from publisher.errors import PublisherError, StoreError, SubscriberError
from publisher.web import headers
from publisher.web.console_auth import Gate, base, message, render
from publisher.words import say

__all__ = ["Console"]

HEADERS = headers.CONSOLE
PREVIEW_HEADERS = headers.PREVIEW
_NOTICES = ("test_sent", "send_started", "send_running")


class Console:
    """The console's routes, its one background send, and its shutdown."""

    def __init__(self, ctx_factory: Callable[[], Context], gate: Gate | None = None) -> None:
        self.ctx = ctx_factory
        self.job = console_send.SendJob()
        self.gate = gate or Gate(ctx_factory)
        guard = self.gate.guard
        routes = [
            *self.gate.routes(),
            Route("/", guard(self.dashboard), methods=["GET"]),
            Route("/preview", guard(self.preview_html), methods=["GET"]),
            Route("/preview.txt", guard(self.preview_text), methods=["GET"]),
            Route("/test", guard(self.send_test, post=True), methods=["POST"]),
            Route("/send", guard(self.send_now, post=True), methods=["POST"]),
        ]
        self.app = Starlette(routes=routes, exception_handlers={StoreError: self._unavailable})

    async def _unavailable(self, request: Request, exc: Exception) -> Response:
        """The database is down: say so in the site's language (503), change nothing."""
        return message(self.ctx(), "unavailable", 503, {"Retry-After": "120"})

    def shutdown(self) -> None:
        """Stop a send in progress after its batch (the server is going down)."""
        self.job.stop(timeout=60)

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
        html = render(
            ctx,
            "dashboard.html.j2",
            tz=site.tz,
            next=upcoming,
            editions=editions[:20],
            job=state,
            result=say(state.report.key, site.lang, **state.report.values) if state.report else "",
            notice=notice,
            notice_to=request.query_params.get("to", ""),
            form_token=console_send.form_token(ctx),
            base=base(request),
            to=values.pop("to", ""),
            error=values.pop("error", ""),
        )
        return HTMLResponse(html, status_code=status, headers=HEADERS)


def _back(request: Request, done: str, **more: str) -> Response:
    """303 to the dashboard: reloading it sends nothing again."""
    url = f"{base(request)}?{urlencode({'done': done, **more})}"
    return RedirectResponse(url, status_code=303, headers=HEADERS)
