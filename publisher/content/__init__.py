"""Reading a Jekyll site: files → :class:`~publisher.models.Post` and Problems."""

from publisher.content.reader import ReadResult, read_posts

__all__ = ["ReadResult", "read_posts"]
