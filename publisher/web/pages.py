"""The subscriber pages' rendering: templates, the site's words, and the error pages.

Every page is a template of ``templates/web/`` in the site's
language (``ja`` or English). :class:`ErrorPages` holds the exception
handlers of :mod:`publisher.web.signup_pages`; :func:`status_page` is the
page of an HTTP error status, which the web edge also answers with (413,
500…) when no route does.

>>> status_page(ctx, 404)          # doctest: +SKIP
'<!DOCTYPE html>…ページが見つかりません…'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from publisher.app import Context
from publisher.errors import DeliveryError, SubscriberError
from publisher.files import template_folder
from publisher.web import headers
from publisher.web.templates import PageTemplates

__all__ = ["HEADERS", "PAGES", "TEMPLATES", "ErrorPages", "render", "site_words", "status_page"]

TEMPLATES = template_folder("web")
PAGES = PageTemplates(TEMPLATES)
HEADERS = headers.PAGES
_STATUS_WORDS = {
    400: "bad_request",
    403: "cross_site",
    404: "not_found",
    405: "not_allowed",
    413: "too_large",
    415: "unsupported",
}


def status_page(ctx: Context, status: int) -> str:
    """The page for an HTTP error ``status`` in the site's language (500 for any unknown one)."""
    words = site_words(ctx)
    key = _STATUS_WORDS.get(status)
    title, body = (words[f"{key}_title"], words[f"{key}_body"]) if key else _error_words(words)
    subscribe = ctx.config.web.base_url.rstrip("/") + "/subscribe"
    return render(ctx, "invalid", title, subscribe, heading=title, message=body, reason="")


def _error_words(words: Mapping[str, str]) -> tuple[str, str]:
    return words["error_title"], words["error_body"]


class ErrorPages:
    """The exception handlers: every error is a page in the site's language."""

    def __init__(self, ctx_factory: Callable[[], Context]) -> None:
        self.ctx = ctx_factory

    async def status(self, request: Request, exc: Exception) -> Response:
        code = exc.status_code if isinstance(exc, HTTPException) else 500
        extra = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
        page = status_page(self.ctx(), code)
        return HTMLResponse(page, status_code=code, headers=HEADERS | extra)

    async def invalid(self, request: Request, exc: Exception) -> Response:
        return self._words_page(request, "invalid_title", "invalid_body", 400)

    async def expired(self, request: Request, exc: Exception) -> Response:
        days = str(self.ctx().config.web.confirm_days)
        return self._words_page(request, "expired_title", "expired_body", 410, days=days)

    async def rejected(self, request: Request, exc: Exception) -> Response:
        ctx = self.ctx()
        reason = exc.reason if isinstance(exc, SubscriberError) else str(exc)
        return self._message(request, ctx, site_words(ctx)["rejected_title"], reason, 422)

    async def unavailable(self, request: Request, exc: Exception) -> Response:
        response = self._words_page(request, "unavailable_title", "unavailable_body", 503)
        response.headers["Retry-After"] = "120"
        return response

    async def failed(self, request: Request, exc: Exception) -> Response:
        status = 503 if isinstance(exc, DeliveryError) else 500
        return self._words_page(request, "error_title", "error_body", status)

    def _words_page(
        self, request: Request, title: str, body: str, status: int, **fill: str
    ) -> Response:
        ctx = self.ctx()
        words = site_words(ctx)
        return self._message(request, ctx, words[title], words[body].format(**fill), status)

    def _message(
        self, request: Request, ctx: Context, heading: str, message: str, status: int
    ) -> Response:
        return self._page(
            request, ctx, "invalid", heading, status, heading=heading, message=message, reason=""
        )

    def _page(
        self,
        request: Request,
        ctx: Context,
        template: str,
        title: str,
        status: int = 200,
        page_headers: Mapping[str, str] = HEADERS,
        **values: Any,
    ) -> Response:
        subscribe = request.url_for("subscribe").path
        html = render(ctx, template, title, subscribe, **values)
        return HTMLResponse(html, status_code=status, headers=dict(page_headers))


def render(ctx: Context, template: str, title: str, subscribe_url: str, **values: Any) -> str:
    site = ctx.config.site
    return PAGES.render(
        f"{template}.html.j2",
        lang=site.lang,
        t=site_words(ctx),
        title=title,
        site={"title": site.title, "url": site.root_url + "/"},
        subscribe_url=subscribe_url,
        **values,
    )


def site_words(ctx: Context) -> dict[str, str]:
    return PAGES.words(ctx.config.site.lang)
