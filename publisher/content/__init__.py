"""Reading a Jekyll site: files → :class:`~publisher.models.Post` and Problems."""

from publisher.content.reader import ReadResult, list_posts, read_posts

__all__ = ["ReadResult", "list_posts", "read_posts"]
