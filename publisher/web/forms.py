"""A public POST, checked before its body is read, and its body read within limits.

The subscriber pages call these in this order: :func:`from_own_site` (the
subscribe form only), :func:`check_type`, then :func:`read_form`. The size of
the body is the web edge's business (:class:`publisher.web.edge.Edge` stops
reading past ``[web] max_body_bytes``); here a form may hold no file and at
most :data:`MAX_FIELDS` fields.

>>> origin_of("HTTPS://News.Example.com:443/subscribe")
'https://news.example.com'
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from publisher.config import WebSettings

__all__ = ["MAX_FIELDS", "MULTIPART", "URLENCODED", "check_type", "from_own_site", "read_form"]

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
MAX_FIELDS = 200
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower case, the default port left out ('' if none)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if not scheme or not host:
        return ""
    host = f"[{host}]" if ":" in host else host
    shown = f":{port}" if port is not None and port != _DEFAULT_PORTS.get(scheme) else ""
    return f"{scheme}://{host}{shown}"


def from_own_site(request: Request, web: WebSettings) -> bool:
    """Whether a POST comes from a page of ``[web] base_url``'s origin or ``allowed_origins``.

    Browsers send ``Origin`` with every cross-site POST; an older one may send
    only ``Referer``. A request with neither is not from a browser's page on
    another site (a script can send anything: the form stamp and the rate
    limit are for those). ``Origin: null`` (a sandboxed or privacy-hiding
    page) is not our page.
    """
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if referer is None:
            return True
        origin = origin_of(referer)
    own = {origin_of(web.base_url), *(origin_of(o) for o in web.allowed_origins)}
    return origin_of(origin) in own - {""}


def check_type(request: Request, *also: str) -> None:
    """415 unless the body is form-urlencoded (or one of ``also``), or there is no type."""
    kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind and kind not in {URLENCODED, *also}:
        raise HTTPException(415)


async def read_form(request: Request, *also: str) -> FormData:
    """The form after :func:`check_type`: no files, at most :data:`MAX_FIELDS` fields."""
    check_type(request, *also)
    if not request.headers.get("content-type"):
        return FormData()  # nothing says what the body is: it is not read
    return await request.form(max_files=0, max_fields=MAX_FIELDS)
