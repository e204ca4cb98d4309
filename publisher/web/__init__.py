"""The web edge: the subscriber pages, the editors' console, and the server that holds both.

=================  ==========================================================
module             what it holds
=================  ==========================================================
``signup_pages``   subscribe / confirm / unsubscribe (RFC 8058) / preferences
``pages``          their rendering, words and error pages (every status in the site's language)
``forms``          a public POST checked before its body is read: origin, type, fields
``console``        the editors' console: preview, test copy, send now, progress
``console_auth``   its login page, session cookie and logout
``server``         both as one ASGI app (what ``publisher serve`` runs)
``edge``           around both: body limit, security headers, safe redirects, client address
``headers``        the security headers every page carries
``limits``         per-client rate limiting of the public form; trusted ``X-Forwarded-For``
``templates``      the Jinja environment and ``strings.toml`` loader both use
=================  ==========================================================

Each route parses the request, calls one use case of :mod:`publisher.app`
and renders a page; errors of the core become HTTP statuses here only.
"""

from publisher.web.console import Console
from publisher.web.server import application
from publisher.web.signup_pages import create_app

__all__ = ["Console", "application", "create_app"]
