"""The console's door: the login page, logout, the session cookie, the guard on every route.

Routes (under ``/console/``)::

    GET  login     the login page (the dashboard if already logged in)
    POST login     check the password: 303 to the dashboard with a session cookie,
                   401 when wrong, 429 with Retry-After when throttled
    POST logout    end the session: its cookie stops working, even a copy of it

Every other console route is wrapped in :meth:`Gate.guard`: the console is off
(404) while no password is configured; without a live session a request is
sent to the login page (303), and nothing is done; a POST also needs the
signed, dated form token of a console page and, when the browser names one,
our own ``Origin`` (else 403). Login and logout are POSTs like any other.

The cookie is ``HttpOnly``, ``SameSite=Strict``, scoped to ``/console``, lasts
``[console] session_hours`` and is ``Secure`` when the request came over
https or ``[web] base_url`` is https (a TLS proxy in front). Each failed
login is logged with the client's address, never with what was typed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from publisher.app import Context, console_send
from publisher.app.console_access import ConsoleAccess, LoginResult, session_seconds
from publisher.errors import ConfigError, TokenError
from publisher.files import template_folder
from publisher.web import headers
from publisher.web.limits import client_key
from publisher.web.templates import PageTemplates

__all__ = ["COOKIE", "PAGES", "Gate", "base", "message", "render", "words"]

COOKIE = "publisher_console"
TEMPLATES = template_folder("console")
PAGES = PageTemplates(TEMPLATES)
HEADERS = headers.CONSOLE
_LOGIN_NOTICES = ("logged_out", "session_ended")
log = logging.getLogger("publisher.console")

Handler = Callable[[Request], Awaitable[Response]]


class Gate:
    """Who may use the console: its credentials, sessions and throttle, and the routes of them."""

    def __init__(
        self, ctx_factory: Callable[[], Context], access: ConsoleAccess | None = None
    ) -> None:
        self.ctx = ctx_factory
        self.access = access or ConsoleAccess()
        ctx = ctx_factory()
        self.access.password_hash(ctx)  # a bad setting stops `publisher serve` at start-up
        for warning in self.access.warnings(ctx):
            log.warning("console: %s", warning)

    def routes(self) -> list[Route]:
        """The login page, login and logout."""
        return [
            Route("/login", self.login_page, methods=["GET"]),
            Route("/login", self.log_in, methods=["POST"]),
            Route("/logout", self.log_out, methods=["POST"]),
        ]

    def guard(self, handler: Handler, post: bool = False) -> Handler:
        """``handler`` for a logged-in editor only (and, for a POST, from a console page)."""

        async def guarded(request: Request) -> Response:
            ctx = self.ctx()
            if not self._on(ctx):
                return _not_found()
            session = request.cookies.get(COOKIE, "")
            if not self.access.session_valid(ctx, session):
                return _to_login(request, "session_ended" if session else "")
            if post and not await genuine_post(request, ctx):
                return message(ctx, "forbidden", 403)
            return await handler(request)

        return guarded

    def _on(self, ctx: Context) -> bool:
        try:
            return self.access.password_hash(ctx) is not None
        except ConfigError as exc:
            log.error("console: off: %s", exc)
            return False

    async def login_page(self, request: Request) -> Response:
        ctx = self.ctx()
        if not self._on(ctx):
            return _not_found()
        if self.access.session_valid(ctx, request.cookies.get(COOKIE, "")):
            return RedirectResponse(base(request), status_code=303, headers=HEADERS)
        notice = request.query_params.get("done", "")
        return _login(request, ctx, notice=notice if notice in _LOGIN_NOTICES else "")

    async def log_in(self, request: Request) -> Response:
        ctx = self.ctx()
        if not self._on(ctx):
            return _not_found()
        if not await genuine_post(request, ctx):
            return message(ctx, "forbidden", 403)
        password = str((await request.form()).get("password") or "")
        client = client_key(request.client.host if request.client else None)
        result = await run_in_threadpool(self.access.log_in, ctx, client, password)
        _log_attempt(client, result)
        if result.outcome == "ok":
            response = RedirectResponse(base(request), status_code=303, headers=HEADERS)
            _set_cookie(response, request, ctx, result.session)
            return response
        if result.outcome == "throttled":
            wait = {"Retry-After": str(result.retry_after)}
            return _login(request, ctx, status=429, wait=result.retry_after, more=wait)
        return _login(request, ctx, status=401, error="login_wrong")

    async def log_out(self, request: Request) -> Response:
        ctx = self.ctx()
        if not self._on(ctx):
            return _not_found()
        if not await genuine_post(request, ctx):
            return message(ctx, "forbidden", 403)
        self.access.log_out(ctx, request.cookies.get(COOKIE, ""))
        response = _to_login(request, "logged_out")
        response.delete_cookie(
            COOKIE,
            path=_cookie_path(request),
            secure=_secure(request, ctx),
            httponly=True,
            samesite="strict",
        )
        return response


def _log_attempt(client: str, result: LoginResult) -> None:
    if result.outcome == "ok":
        log.info("console: login from %s", client)
    elif result.failures:
        wait = f"; next attempt checked in {result.retry_after} s" if result.retry_after else ""
        log.warning(
            "console: login failed from %s: wrong password (%d in a row%s)",
            client,
            result.failures,
            wait,
        )
    else:
        log.warning(
            "console: login from %s refused unchecked: throttled for %d s more",
            client,
            result.retry_after,
        )


def _set_cookie(response: Response, request: Request, ctx: Context, session: str) -> None:
    response.set_cookie(
        COOKIE,
        session,
        max_age=session_seconds(ctx),
        path=_cookie_path(request),
        secure=_secure(request, ctx),
        httponly=True,
        samesite="strict",
    )


def _secure(request: Request, ctx: Context) -> bool:
    """Over https here, or behind a TLS proxy (``[web] base_url`` is https)."""
    return request.url.scheme == "https" or urlsplit(ctx.config.web.base_url).scheme == "https"


def _cookie_path(request: Request) -> str:
    return base(request).rstrip("/") or "/"


async def genuine_post(request: Request, ctx: Context) -> bool:
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


def _login(
    request: Request,
    ctx: Context,
    status: int = 200,
    notice: str = "",
    error: str = "",
    wait: int = 0,
    more: dict[str, str] | None = None,
) -> Response:
    page = render(
        ctx,
        "login.html.j2",
        form_token=console_send.form_token(ctx),
        base=base(request),
        notice=notice,
        error=error,
        wait=wait,
    )
    return HTMLResponse(page, status_code=status, headers=HEADERS | (more or {}))


def message(ctx: Context, key: str, status: int, more: dict[str, str] | None = None) -> Response:
    """A page of one title and one paragraph (``KEY_title``, ``KEY_body``), in the site's words."""
    page = render(ctx, "message.html.j2", key=key)
    return HTMLResponse(page, status_code=status, headers=HEADERS | (more or {}))


def _to_login(request: Request, done: str = "") -> RedirectResponse:
    query = f"?{urlencode({'done': done})}" if done else ""
    return RedirectResponse(f"{base(request)}login{query}", status_code=303, headers=HEADERS)


def _not_found() -> Response:
    return PlainTextResponse("Not Found", status_code=404, headers=HEADERS)


def base(request: Request) -> str:
    """The console's own path, wherever it is mounted (``/console/``)."""
    return str(request.scope.get("root_path", "")).rstrip("/") + "/"


def render(ctx: Context, template: str, **values: Any) -> str:
    """A console page in the site's language, with the site's title and address."""
    site = ctx.config.site
    return PAGES.render(
        template,
        lang=site.lang,
        t=words(ctx),
        site={"title": site.title, "url": site.root_url + "/"},
        **values,
    )


def words(ctx: Context) -> dict[str, str]:
    """The console's fixed words in the site's language."""
    return PAGES.words(ctx.config.site.lang)
