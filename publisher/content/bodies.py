"""Render the bodies of the posts that appear in some feed, and only those.

A 50 KB post takes a few milliseconds to render and sanitise, so rendering all
ten thousand posts of a large blog for feeds that show twenty each would be
most of a build. Rendered HTML is cached per file (see
:class:`~publisher.content.cache.HtmlCache`), and a cold batch is spread over
the cores.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from publisher.config import Settings
from publisher.content.cache import HtmlCache
from publisher.content.cleaning import clean_body
from publisher.content.frontmatter import read_body
from publisher.content.markup import render_markdown
from publisher.content.parallel import map_work
from publisher.errors import PostError
from publisher.models import Post, Problem

__all__ = ["render_bodies"]

PARALLEL_MIN = 24


def render_bodies(
    posts: Sequence[Post], settings: Settings, cache: HtmlCache
) -> tuple[dict[str, str], list[Problem]]:
    """HTML of each post's body by post id, and a Problem for each body that could not be read.

    A post whose body cannot be read is still published, with its excerpt as content.
    """
    html: dict[str, str] = {}
    todo: list[Post] = []
    for post in posts:
        hit = cache.get(post)
        if hit is None:
            todo.append(post)
        else:
            html[post.id] = hit
    problems: list[Problem] = []
    for post, result in zip(todo, _render_all(todo, settings), strict=True):
        if isinstance(result, Problem):
            problems.append(result)
            html[post.id] = f"<p>{escape(post.excerpt)}</p>"
        else:
            html[post.id] = result
            cache.put(post, result)
    return html, problems


def _render_all(posts: list[Post], settings: Settings) -> list[str | Problem]:
    return map_work(
        _render_one, posts, settings, workers=settings.feeds.workers, minimum=PARALLEL_MIN
    )


def _render_one(post: Post, settings: Settings) -> str | Problem:
    """The body's HTML, or the Problem that kept it from being read or rendered (never raises)."""
    try:
        body = read_body(Path(post.source), post.body_offset)
        return render_markdown(clean_body(body, post.title, settings.content), post.url)
    except PostError as exc:
        return Problem(path=post.path, line=exc.line, reason=exc.reason)
    except OSError as exc:
        return Problem(path=post.path, reason=f"cannot read the body: {exc}")
    except RecursionError:
        return Problem(path=post.path, reason="the body is nested too deeply to render")
    except Exception as exc:  # a bug or a case not foreseen: the excerpt stands in
        reason = f"cannot render the body ({type(exc).__name__}): {exc}"
        return Problem(path=post.path, reason=reason)
