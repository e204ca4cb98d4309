"""The subscriber pages: subscribe, confirm, unsubscribe (with RFC 8058 one-click), preferences.

A small Starlette app. Each route parses the request, calls one use case of
:mod:`publisher.app.signup` and renders a page from
``publisher/templates/web/`` in the site's language (``ja`` or English).
Errors of the core become HTTP statuses here and nowhere else:
:class:`TokenError` → 400, :class:`SubscriberError` → 422 (with the reason),
:class:`DeliveryError` and :class:`StoreError` (the database is down) → 503
with a page saying nothing was changed, any other :class:`PublisherError` → 500.

Routes::

    GET  /subscribe             the form: email, name, categories
    POST /subscribe             → "check your inbox" (whether or not the address is known);
                                429 past [web] subscribe_per_hour for one client
    GET  /confirm/{token}       a page with a button; a GET changes nothing
    POST /confirm/{token}       pending → active (links older than [web] confirm_days: 410)
    GET  /unsubscribe/{token}   a page with a button; a GET changes nothing
                                (mail scanners follow every link in a message)
    POST /unsubscribe/{token}   unsubscribe; a "List-Unsubscribe=One-Click" body
                                (RFC 8058) gets a short text reply
    GET|POST /preferences/{token}  choose categories
    GET  /healthz               "ok"

The signed token in the URL is the authority for unsubscribe and
preferences, so those forms need no CSRF token; the subscribe form carries a
signed timestamp (:func:`publisher.app.signup.form_stamp`).

>>> ctx = Context(site_dir=Path("examples/site"))                 # doctest: +SKIP
>>> uvicorn.run(create_app(lambda: ctx), host="127.0.0.1")        # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from publisher.app import Context, signup
from publisher.errors import (
    DeliveryError,
    LinkExpired,
    PublisherError,
    StoreError,
    SubscriberError,
    TokenError,
)
from publisher.web import headers
from publisher.web.limits import RateLimit, client_key
from publisher.web.templates import PageTemplates

__all__ = ["TEMPLATES", "create_app"]

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "web"
PAGES = PageTemplates(TEMPLATES)
HEADERS = headers.PAGES
ONE_CLICK = ("List-Unsubscribe", "One-Click")


def create_app(ctx_factory: Callable[[], Context]) -> Starlette:
    """The ASGI app. ``ctx_factory`` is called per request: return one shared Context.

    >>> client = TestClient(create_app(lambda: ctx))     # doctest: +SKIP
    >>> client.get("/healthz").text                      # doctest: +SKIP
    'ok'
    """
    pages = _Pages(ctx_factory)
    routes = [
        Route("/subscribe", pages.subscribe_form, methods=["GET"], name="subscribe"),
        Route("/subscribe", pages.subscribe, methods=["POST"]),
        Route("/confirm/{token}", pages.confirm_form, methods=["GET"]),
        Route("/confirm/{token}", pages.confirm, methods=["POST"]),
        Route("/unsubscribe/{token}", pages.unsubscribe_form, methods=["GET"]),
        Route("/unsubscribe/{token}", pages.unsubscribe, methods=["POST"]),
        Route("/preferences/{token}", pages.preferences, methods=["GET", "POST"]),
        Route("/healthz", _healthz, methods=["GET"]),
    ]
    handlers: dict[Any, Callable[[Request, Exception], Any]] = {
        LinkExpired: pages.expired,
        TokenError: pages.invalid,
        SubscriberError: pages.rejected,
        StoreError: pages.unavailable,
        PublisherError: pages.failed,
    }
    return Starlette(routes=routes, exception_handlers=handlers)


async def _healthz(request: Request) -> Response:
    return PlainTextResponse("ok", headers=HEADERS)


class _Pages:
    """The routes and error pages, sharing the context factory."""

    def __init__(self, ctx_factory: Callable[[], Context]) -> None:
        self.ctx = ctx_factory
        self._limit: RateLimit | None = None

    def _allowed(self, request: Request, ctx: Context) -> int:
        """0 if this client may subscribe now, else the seconds it should wait."""
        if self._limit is None:
            self._limit = RateLimit(ctx.config.web.subscribe_per_hour, timedelta(hours=1))
        key, now = client_key(request.client.host if request.client else None), ctx.clock()
        return 0 if self._limit.allow(key, now) else self._limit.retry_after(key, now)

    async def subscribe_form(self, request: Request) -> Response:
        ctx = self.ctx()
        return await self._form(request, ctx, email="", name="", chosen=())

    async def subscribe(self, request: Request) -> Response:
        ctx = self.ctx()
        form = await request.form()
        email, name = str(form.get("email") or ""), str(form.get("name") or "")
        chosen = [str(value) for value in form.getlist("category")]
        words = _words(ctx)
        wait = self._allowed(request, ctx)
        if wait:
            minutes = str(-(-wait // 60))
            error = (words["too_many"].format(minutes=minutes), "")
            response = await self._form(request, ctx, email, name, chosen, error, 429)
            response.headers["Retry-After"] = str(wait)
            return response
        try:
            signup.check_form_stamp(ctx, str(form.get("stamp") or ""))
            await run_in_threadpool(signup.subscribe, ctx, email, name, chosen)
        except TokenError:
            return await self._form(request, ctx, email, name, chosen, (words["form_expired"], ""))
        except SubscriberError as exc:
            error = (words["bad_address"], exc.reason)
            return await self._form(request, ctx, email, name, chosen, error, 422)
        return self._page(request, ctx, "check_inbox", words["check_title"], email=email.strip())

    async def confirm_form(self, request: Request) -> Response:
        ctx = self.ctx()
        sub = await run_in_threadpool(signup.check_confirm, ctx, request.path_params["token"])
        if sub.status == "pending":
            title = _words(ctx)["confirm_title"]
            return self._page(request, ctx, "confirm", title, email=sub.email)
        return self._confirmed(request, ctx, sub.email, sub.status == "active")

    async def confirm(self, request: Request) -> Response:
        ctx = self.ctx()
        sub = await run_in_threadpool(signup.confirm, ctx, request.path_params["token"])
        return self._confirmed(request, ctx, sub.email, sub.status == "active")

    def _confirmed(self, request: Request, ctx: Context, email: str, active: bool) -> Response:
        title = _words(ctx)["confirmed_title" if active else "not_subscribed_title"]
        return self._page(request, ctx, "confirmed", title, email=email, active=active)

    async def unsubscribe_form(self, request: Request) -> Response:
        ctx = self.ctx()
        sub = await run_in_threadpool(signup.check_unsubscribe, ctx, request.path_params["token"])
        return self._page(
            request,
            ctx,
            "unsubscribe",
            _words(ctx)["unsubscribe_title"],
            email=sub.email,
            unsubscribed=sub.status == "unsubscribed",
        )

    async def unsubscribe(self, request: Request) -> Response:
        ctx = self.ctx()
        form = await request.form()
        # RFC 8058 §3.2: a mail provider POSTs "List-Unsubscribe=One-Click" to the
        # List-Unsubscribe URL, with no cookies and no page to look at: answer in text.
        one_click = form.get(ONE_CLICK[0]) == ONE_CLICK[1]
        try:
            sub = await run_in_threadpool(
                signup.unsubscribe_by_token, ctx, request.path_params["token"]
            )
        except TokenError as exc:
            if one_click:
                return PlainTextResponse(f"{exc}\n", status_code=400, headers=HEADERS)
            raise
        if one_click:
            return PlainTextResponse("unsubscribed\n", headers=HEADERS)
        title = _words(ctx)["unsubscribed_title"]
        return self._page(request, ctx, "unsubscribed", title, email=sub.email)

    async def preferences(self, request: Request) -> Response:
        ctx = self.ctx()
        token = request.path_params["token"]
        saved = request.method == "POST"
        if saved:
            chosen = [str(value) for value in (await request.form()).getlist("category")]
            sub = await run_in_threadpool(signup.set_preferences, ctx, token, chosen)
        else:
            sub = await run_in_threadpool(signup.preferences, ctx, token)
        return self._page(
            request,
            ctx,
            "preferences",
            _words(ctx)["preferences_title"],
            email=sub.email,
            active=sub.status == "active",
            categories=await run_in_threadpool(signup.site_categories, ctx),
            chosen=sub.categories,
            saved=saved,
        )

    async def invalid(self, request: Request, exc: Exception) -> Response:
        ctx = self.ctx()
        words = _words(ctx)
        return self._message(request, ctx, words["invalid_title"], words["invalid_body"], "", 400)

    async def expired(self, request: Request, exc: Exception) -> Response:
        ctx = self.ctx()
        words = _words(ctx)
        days = str(ctx.config.web.confirm_days)
        body = words["expired_body"].format(days=days)
        return self._message(request, ctx, words["expired_title"], body, "", 410)

    async def rejected(self, request: Request, exc: Exception) -> Response:
        ctx = self.ctx()
        reason = exc.reason if isinstance(exc, SubscriberError) else str(exc)
        words = _words(ctx)
        return self._message(request, ctx, words["rejected_title"], reason, "", 422)

    async def unavailable(self, request: Request, exc: Exception) -> Response:
        ctx = self.ctx()
        words = _words(ctx)
        title, body = words["unavailable_title"], words["unavailable_body"]
        response = self._message(request, ctx, title, body, "", 503)
        response.headers["Retry-After"] = "120"
        return response

    async def failed(self, request: Request, exc: Exception) -> Response:
        ctx = self.ctx()
        words = _words(ctx)
        status = 503 if isinstance(exc, DeliveryError) else 500
        return self._message(request, ctx, words["error_title"], words["error_body"], "", status)

    async def _form(
        self,
        request: Request,
        ctx: Context,
        email: str,
        name: str,
        chosen: Sequence[str],
        error: tuple[str, str] = ("", ""),
        status: int = 400,
    ) -> Response:
        """The subscribe form; ``error`` is (message, reason) when a post was refused."""
        categories = await run_in_threadpool(signup.site_categories, ctx)
        return self._page(
            request,
            ctx,
            "subscribe",
            _words(ctx)["subscribe_title"],
            status if error[0] else 200,
            email=email,
            name=name,
            chosen=tuple(chosen),
            categories=categories,
            stamp=signup.form_stamp(ctx),
            error=error[0],
            reason=error[1],
        )

    def _message(
        self, request: Request, ctx: Context, heading: str, message: str, reason: str, status: int
    ) -> Response:
        values = {"heading": heading, "message": message, "reason": reason}
        return self._page(request, ctx, "invalid", heading, status, **values)

    def _page(
        self,
        request: Request,
        ctx: Context,
        template: str,
        title: str,
        status: int = 200,
        **values: Any,
    ) -> Response:
        site = ctx.config.site
        html = PAGES.render(
            f"{template}.html.j2",
            lang=site.lang,
            t=_words(ctx),
            title=title,
            site={"title": site.title, "url": site.root_url + "/"},
            subscribe_url=request.url_for("subscribe").path,
            **values,
        )
        return HTMLResponse(html, status_code=status, headers=HEADERS)


def _words(ctx: Context) -> dict[str, str]:
    return PAGES.words(ctx.config.site.lang)
