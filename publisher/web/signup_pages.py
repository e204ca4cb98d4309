"""The subscriber pages: subscribe, confirm, unsubscribe (with RFC 8058 one-click), preferences.

A small Starlette app. Each route parses the request, calls one use case of
:mod:`publisher.app.signup` and renders a page from
``templates/web/`` in the site's language (``ja`` or English).
Errors of the core become HTTP statuses here and nowhere else:
:class:`TokenError` → 400, :class:`SubscriberError` → 422 (with the reason),
:class:`DeliveryError` and :class:`StoreError` (the database is down) → 503
with a page saying nothing was changed, any other :class:`PublisherError` → 500.
Every status gets a page in the site's language (:func:`status_page`), and
the whole app runs inside :class:`publisher.web.edge.Edge` (body limit,
headers, redirects, forwarded addresses).

A POST is checked before its body is read: the client's rate limit and the
form's origin (subscribe), the token (the others), and the body's type
(``application/x-www-form-urlencoded``; ``multipart/form-data`` too for
RFC 8058's one-click unsubscribe; else 415).

Routes::

    GET  /subscribe             the form: email, name, categories
    POST /subscribe             → "check your inbox" (whether or not the address is known);
                                429 past [web] subscribe_per_hour for one client or
                                [web] pending_per_hour for the site; 403 from another site
    GET|POST /subscribe/embed   the same, compact, for an <iframe> on the blog: only the
                                site's own origin and [web] allowed_origins may frame it
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
signed timestamp bound to the client (:func:`publisher.app.signup.form_stamp`)
and must come from ``[web] base_url``'s origin or ``[web] allowed_origins``.

>>> ctx = Context(site_dir=Path("examples/site"))                 # doctest: +SKIP
>>> uvicorn.run(create_app(lambda: ctx), host="127.0.0.1")        # doctest: +SKIP
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from publisher.app import Context, signup
from publisher.errors import (
    LinkExpired,
    PublisherError,
    StoreError,
    SubscriberError,
    TokenError,
)
from publisher.web import headers
from publisher.web.edge import Edge
from publisher.web.forms import MULTIPART, check_type, from_own_site, origin_of, read_form
from publisher.web.limits import RateLimit, client_key
from publisher.web.pages import HEADERS, TEMPLATES, ErrorPages, site_words, status_page

__all__ = ["TEMPLATES", "create_app", "pages_app", "status_page"]

ONE_CLICK = ("List-Unsubscribe", "One-Click")
_ORIGIN = re.compile(r"https?://[a-z0-9.\-]+(?::\d{1,5})?|https?://\[[0-9a-f:.]+\](?::\d{1,5})?")


def create_app(ctx_factory: Callable[[], Context]) -> Edge:
    """The ASGI app, inside the web edge. ``ctx_factory`` is called per request: return one
    shared Context.

    >>> client = TestClient(create_app(lambda: ctx))     # doctest: +SKIP
    >>> client.get("/healthz").text                      # doctest: +SKIP
    'ok'
    """
    return Edge(
        pages_app(ctx_factory),
        lambda: ctx_factory().config.web,
        lambda status: status_page(ctx_factory(), status),
    )


def pages_app(ctx_factory: Callable[[], Context]) -> Starlette:
    """The subscriber pages alone (:func:`create_app` and ``server`` wrap them in the edge)."""
    pages = _Pages(ctx_factory)
    routes = [
        Route("/subscribe", pages.subscribe_form, methods=["GET"], name="subscribe"),
        Route("/subscribe", pages.subscribe, methods=["POST"]),
        Route("/subscribe/embed", pages.subscribe_form, methods=["GET"], name="embed"),
        Route("/subscribe/embed", pages.subscribe, methods=["POST"]),
        Route("/confirm/{token}", pages.confirm_form, methods=["GET"]),
        Route("/confirm/{token}", pages.confirm, methods=["POST"]),
        Route("/unsubscribe/{token}", pages.unsubscribe_form, methods=["GET"]),
        Route("/unsubscribe/{token}", pages.unsubscribe, methods=["POST"]),
        Route("/preferences/{token}", pages.preferences, methods=["GET", "POST"]),
        Route("/healthz", _healthz, methods=["GET"]),
    ]
    handlers: dict[Any, Callable[[Request, Exception], Any]] = {
        HTTPException: pages.status,
        LinkExpired: pages.expired,
        TokenError: pages.invalid,
        SubscriberError: pages.rejected,
        StoreError: pages.unavailable,
        PublisherError: pages.failed,
    }
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.router.redirect_slashes = False  # its redirect names the Host header's site: 404
    return app


async def _healthz(request: Request) -> Response:
    return PlainTextResponse("ok", headers=HEADERS)


class _Pages(ErrorPages):
    """The routes, sharing the context factory (the error pages are :class:`ErrorPages`')."""

    def __init__(self, ctx_factory: Callable[[], Context]) -> None:
        super().__init__(ctx_factory)
        self._limit: RateLimit | None = None

    def _wait(self, client: str, ctx: Context) -> int:
        """0 if this client may subscribe now, else the seconds it should wait."""
        if self._limit is None:
            self._limit = RateLimit(ctx.config.web.subscribe_per_hour, timedelta(hours=1))
        now = ctx.clock()
        return 0 if self._limit.allow(client, now) else self._limit.retry_after(client, now)

    async def subscribe_form(self, request: Request) -> Response:
        return await self._form(request, self.ctx(), email="", name="", chosen=())

    async def subscribe(self, request: Request) -> Response:
        ctx, client = self.ctx(), _client(request)
        words = site_words(ctx)
        wait = self._wait(client, ctx)  # before the body is read
        if wait:
            message = words["too_many"].format(minutes=str(-(-wait // 60)))
            return await self._refuse(request, ctx, message, wait)
        if not from_own_site(request, ctx.config.web):
            raise HTTPException(403)  # an embedded form posts from its frame: our own origin
        form = await read_form(request)
        email, name = str(form.get("email") or ""), str(form.get("name") or "")
        chosen = [str(value) for value in form.getlist("category")]
        try:
            signup.check_form_stamp(ctx, str(form.get("stamp") or ""), client)
            await run_in_threadpool(signup.subscribe, ctx, email, name, chosen)
        except TokenError:
            return await self._form(request, ctx, email, name, chosen, (words["form_expired"], ""))
        except SubscriberError as exc:
            error = (words["bad_address"], exc.reason)
            return await self._form(request, ctx, email, name, chosen, error, 422)
        except signup.TooManySignups:
            return await self._refuse(request, ctx, words["too_many_site"], 3600, email, name)
        return self._page(
            request,
            ctx,
            "check_inbox",
            words["check_title"],
            200,
            _embedded(ctx) if _is_embed(request) else HEADERS,
            email=email.strip(),
            embed=_is_embed(request),
        )

    async def _refuse(
        self, request: Request, ctx: Context, message: str, wait: int, *typed: str
    ) -> Response:
        """429: the form again with ``message``, and when to come back."""
        email, name = (*typed, "", "")[:2]
        response = await self._form(request, ctx, email, name, (), (message, ""), 429)
        response.headers["Retry-After"] = str(wait)
        return response

    async def confirm_form(self, request: Request) -> Response:
        ctx = self.ctx()
        asked = await run_in_threadpool(signup.confirm_request, ctx, request.path_params["token"])
        sub = asked.subscriber
        if asked.opens:
            title = site_words(ctx)["confirm_title"]
            return self._page(request, ctx, "confirm", title, email=sub.email)
        return self._confirmed(request, ctx, sub.email, sub.status == "active")

    async def confirm(self, request: Request) -> Response:
        ctx = self.ctx()
        check_type(request)  # the body itself is never read
        sub = await run_in_threadpool(signup.confirm, ctx, request.path_params["token"])
        return self._confirmed(request, ctx, sub.email, sub.status == "active")

    def _confirmed(self, request: Request, ctx: Context, email: str, active: bool) -> Response:
        title = site_words(ctx)["confirmed_title" if active else "not_subscribed_title"]
        return self._page(request, ctx, "confirmed", title, email=email, active=active)

    async def unsubscribe_form(self, request: Request) -> Response:
        ctx = self.ctx()
        sub = await run_in_threadpool(signup.check_unsubscribe, ctx, request.path_params["token"])
        return self._page(
            request,
            ctx,
            "unsubscribe",
            site_words(ctx)["unsubscribe_title"],
            email=sub.email,
            unsubscribed=sub.status == "unsubscribed",
        )

    async def unsubscribe(self, request: Request) -> Response:
        ctx, token = self.ctx(), request.path_params["token"]
        await run_in_threadpool(signup.check_unsubscribe, ctx, token)  # before the body is read
        form = await read_form(request, MULTIPART)
        # RFC 8058 §3.2: a mail provider POSTs "List-Unsubscribe=One-Click" to the
        # List-Unsubscribe URL, with no cookies and no page to look at: answer in text.
        sub = await run_in_threadpool(signup.unsubscribe_by_token, ctx, token)
        if form.get(ONE_CLICK[0]) == ONE_CLICK[1]:
            return PlainTextResponse("unsubscribed\n", headers=HEADERS)
        title = site_words(ctx)["unsubscribed_title"]
        return self._page(request, ctx, "unsubscribed", title, email=sub.email)

    async def preferences(self, request: Request) -> Response:
        ctx = self.ctx()
        token = request.path_params["token"]
        sub = await run_in_threadpool(signup.preferences, ctx, token)  # before the body is read
        saved = request.method == "POST"
        if saved:
            chosen = [str(value) for value in (await read_form(request)).getlist("category")]
            sub = await run_in_threadpool(signup.set_preferences, ctx, token, chosen)
        return self._page(
            request,
            ctx,
            "preferences",
            site_words(ctx)["preferences_title"],
            email=sub.email,
            active=sub.status == "active",
            categories=await run_in_threadpool(signup.site_categories, ctx),
            chosen=sub.categories,
            saved=saved,
        )

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
            site_words(ctx)["subscribe_title"],
            status if error[0] else 200,
            _embedded(ctx) if _is_embed(request) else headers.FORM,
            embed=_is_embed(request),
            email=email,
            name=name,
            chosen=tuple(chosen),
            categories=categories,
            stamp=signup.form_stamp(ctx, _client(request)),
            error=error[0],
            reason=error[1],
        )


def _is_embed(request: Request) -> bool:
    """Whether this is the embeddable form's route (``/subscribe/embed``)."""
    return request.url.path.rstrip("/").endswith("/subscribe/embed")


def _embedded(ctx: Context) -> dict[str, str]:
    """Framed by the blog (the site's ``url``) and ``[web] allowed_origins``, no one else."""
    site = origin_of(ctx.config.site.url)
    ancestors = [site, *(origin_of(o) for o in ctx.config.web.allowed_origins)]
    safe = (a for a in ancestors if _ORIGIN.fullmatch(a))  # nothing else goes into the CSP
    return headers.embedded(list(dict.fromkeys(safe)))


def _client(request: Request) -> str:
    """Whom the rate limit counts and the form stamp is for (the edge resolved the address)."""
    return client_key(request.client.host if request.client else None)
