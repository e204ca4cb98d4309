"""The security headers every page of the web edge carries, in one place.

Pages load nothing from anywhere, are never cached (token URLs), never framed
by another site (a hidden unsubscribe button under a decoy) and never sniffed.
The web edge (:mod:`publisher.web.edge`) adds :data:`PAGES` to every response
that lacks them: 404, 405, 413, redirects, the console's too.
Each app adds only what is its own: the console frames its own preview and
needs a same-origin referrer, because under ``no-referrer`` browsers send
``Origin: null`` with a form's POST, and the origin is one of its checks
against cross-site requests.

>>> PAGES["Referrer-Policy"], CONSOLE["Referrer-Policy"]
('no-referrer', 'same-origin')
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["CONSOLE", "FORM", "PAGES", "PREVIEW", "embedded", "security_headers"]

_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'"


def security_headers(*, csp: str, referrer: str, framing: str = "DENY") -> dict[str, str]:
    """The shared set, with this app's Content-Security-Policy, Referrer-Policy and framing
    (``X-Frame-Options``; empty: none, when the CSP's ``frame-ancestors`` lists who may)."""
    found = {
        "Content-Security-Policy": csp,
        "Referrer-Policy": referrer,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": framing,
        "Cache-Control": "no-store",
    }
    return {name: value for name, value in found.items() if value}


def embedded(ancestors: Sequence[str]) -> dict[str, str]:
    """The embeddable subscribe form's: framed by its own origin and ``ancestors`` only.

    ``X-Frame-Options`` cannot list origins, so it is left out: the CSP's
    ``frame-ancestors`` decides (every browser that frames pages reads it).

    >>> embedded(["https://blog.example.com"])["Content-Security-Policy"].rsplit("; ", 1)[1]
    "frame-ancestors 'self' https://blog.example.com"
    >>> "X-Frame-Options" in embedded([])
    False
    """
    allowed = " ".join(["'self'", *ancestors])
    return security_headers(
        csp=f"{_CSP}; frame-ancestors {allowed}", referrer="same-origin", framing=""
    )


PAGES = security_headers(csp=f"{_CSP}; frame-ancestors 'none'", referrer="no-referrer")
"""The subscriber pages (and whatever the web edge answers without a page's own headers)."""
FORM = security_headers(csp=f"{_CSP}; frame-ancestors 'none'", referrer="same-origin")
"""The subscribe form: its URL holds no secret, and its POST must carry the page's ``Origin``
(under ``no-referrer`` browsers send ``Origin: null``), which the form checks."""
CONSOLE = security_headers(
    csp=f"{_CSP}; frame-src 'self'; frame-ancestors 'none'", referrer="same-origin"
)
"""The editors' console."""
PREVIEW = security_headers(
    csp="default-src 'none'; style-src 'unsafe-inline'; img-src https: data:;"
    " frame-ancestors 'self'; sandbox allow-popups",
    referrer="same-origin",
    framing="SAMEORIGIN",
)
"""The digest's own HTML in the console: framed by the dashboard only, and sandboxed."""
