"""The weekly digest: which posts (edition), how they look (render), the MIME bytes (message).

Rendering happens once per audience group; each subscriber then only gets
their own values spliced into the finished bytes::

    posts = select_posts(all_posts, last_cutoff, now, settings.digest.first_edition_days)
    content = render_digest(posts_for_audience(posts, ("投資分析",)), number=3,
                            cutoff=now, settings=settings)
    template = build_template(content, settings=settings, edition_number=3, date=now,
                              list_id="digest.blog.example.com")
    data = personalize(template, to="a@example.org", message_id="<3.1@blog.example.com>",
                       unsubscribe_url=..., unsubscribe_mailto=..., preferences_url=...)

Only :mod:`publisher.digest.render` imports Jinja2 and premailer.
"""

from publisher.digest.edition import posts_for_audience, reading_minutes, select_posts
from publisher.digest.message import MessageTemplate, build_template, personalize
from publisher.digest.placeholders import PREFERENCES_URL, SUBSCRIBER_NAME, UNSUBSCRIBE_URL
from publisher.digest.render import DigestContent, render_digest

__all__ = [
    "PREFERENCES_URL",
    "SUBSCRIBER_NAME",
    "UNSUBSCRIBE_URL",
    "DigestContent",
    "MessageTemplate",
    "build_template",
    "personalize",
    "posts_for_audience",
    "reading_minutes",
    "render_digest",
    "select_posts",
]
