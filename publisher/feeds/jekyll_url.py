"""URLs and ids exactly as Jekyll's ``absolute_url`` filter makes them (for jekyll-feed parity).

jekyll-feed writes every link and id as ``… | absolute_url``: ``url`` +
``baseurl`` + the path, put through Addressable's ``URI#normalize`` (2.8):
scheme and host lower-cased, the default port dropped, each path segment
percent-decoded, NFKC-normalised and encoded again (upper-case hex), dot
segments removed. A trailing ``/`` on ``url`` is kept, so it doubles the next
one, as it does in Jekyll.

A post's ``id`` (``Document#id``) is not its URL: it is the URL's folder joined
with the post's slug (``/2025/09/01/hello.html`` → ``/2025/09/01/hello``).

>>> absolute_url("https://Blog.Example.com:443", "/blog/", "/2025/09/01/日本")
'https://blog.example.com/blog/2025/09/01/%E6%97%A5%E6%9C%AC'
>>> jekyll_id("/2025/09/01/hello/", "hello")
'/2025/09/01/hello'
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, unquote_to_bytes, urlsplit

__all__ = ["absolute_url", "jekyll_id", "normalize_url"]

_PCHAR = "-._~!$&'()*+,;=:@"
_RESERVED = _PCHAR + "/?#[]"
_HOST = "-._~!$&'()*+,;=[:]"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}


def absolute_url(site_url: str, baseurl: str, path: str) -> str:
    """Jekyll's ``path | absolute_url`` for a site's ``url`` and ``baseurl``."""
    base = baseurl.removesuffix("/")
    relative = normalize_url(_leading_slash(base) + _leading_slash(path))
    if not site_url:
        return relative
    return normalize_url(site_url + relative)


def jekyll_id(url_path: str, slug: str) -> str:
    """Jekyll's ``Document#id``: ``File.join(File.dirname(url), slug)``."""
    return _ruby_join(_ruby_dirname(url_path), slug)


def normalize_url(url: str) -> str:
    """Addressable's ``URI.parse(url).normalize.to_s``."""
    parts = urlsplit(url)
    out = ""
    if parts.scheme:
        out = parts.scheme.lower() + ":"
    if parts.netloc or parts.scheme in _DEFAULT_PORTS:
        out += "//" + _authority(parts.scheme.lower(), parts.netloc)
    path = _path(parts.path)
    if not path and parts.scheme.lower() in ("http", "https", "ftp", "tftp"):
        path = "/"
    out += path
    if parts.query:
        out += "?" + "&".join(_component(pair, _PCHAR + "/?") for pair in parts.query.split("&"))
    if parts.fragment:
        out += "#" + _component(parts.fragment, _PCHAR + "/?")
    return out


def _authority(scheme: str, netloc: str) -> str:
    userinfo, at, hostport = netloc.rpartition("@")
    host, port = hostport, ""
    match = re.fullmatch(r"(.*):(\d*)", hostport)
    if match and not hostport.endswith("]"):
        host, port = match[1], match[2]
    host = unquote_to_bytes(host.strip().lower()).decode("utf-8", "replace")
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    if re.search(r"[^.]\.$", host):
        host = host[:-1]
    host = _component(host, _HOST)
    if port and _DEFAULT_PORTS.get(scheme) == int(port):
        port = ""
    return (userinfo + at if at else "") + host + (":" + port if port else "")


def _path(path: str) -> str:
    segments = [_component(segment, _PCHAR) for segment in path.strip().split("/")]
    return _remove_dot_segments("/".join(segments))


def _component(text: str, safe: str) -> str:
    raw = unquote_to_bytes(text)
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return quote(raw, safe=_RESERVED)
    return quote(unicodedata.normalize("NFKC", decoded), safe=safe)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, as Addressable applies it to a normalised path."""
    if "." not in path:
        return path
    output: list[str] = []
    rest = path
    while rest:
        if rest.startswith(("../", "./")):
            rest = rest[rest.index("/") + 1 :]
        elif rest.startswith("/./") or rest == "/.":
            rest = "/" + rest[3:]
        elif rest.startswith("/../") or rest == "/..":
            rest = "/" + rest[4:]
            if output:
                output.pop()
        elif rest in (".", ".."):
            rest = ""
        else:
            match = re.match(r"/?[^/]*", rest)
            assert match is not None
            output.append(match[0])
            rest = rest[match.end() :]
    return "".join(output)


def _leading_slash(text: str) -> str:
    return text if not text or text.startswith("/") else "/" + text


def _ruby_dirname(path: str) -> str:
    """Ruby's ``File.dirname``: trailing slashes ignored; ``/`` for the root, ``.`` for none."""
    trimmed = path.rstrip("/")
    if not trimmed:
        return "/" if path else "."
    head, slash, _ = trimmed.rpartition("/")
    if not slash:
        return "."
    return head.rstrip("/") or "/"


def _ruby_join(head: str, tail: str) -> str:
    """Ruby's ``File.join`` of two parts: exactly one ``/`` between them."""
    if not tail:
        return head if head.endswith("/") else head + "/"
    return head.rstrip("/") + "/" + tail.lstrip("/")
