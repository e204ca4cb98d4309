"""publisher: Atom feeds and weekly email digests for Jekyll-style blogs.

The public API is small; the CLI and web console are built on it::

    from pathlib import Path
    from publisher import BuildRequest, build_feeds

    report = build_feeds(BuildRequest(site_dir=Path("examples/site")))
    print(report.written)
"""

__version__ = "0.1.0"

from publisher.app import BuildReport, BuildRequest, build_feeds
from publisher.config import Settings, load_settings
from publisher.errors import (
    ConfigError,
    OutputError,
    PostError,
    PublisherError,
)
from publisher.models import Post, Problem

__all__ = [
    "BuildReport",
    "BuildRequest",
    "ConfigError",
    "OutputError",
    "Post",
    "PostError",
    "Problem",
    "PublisherError",
    "Settings",
    "__version__",
    "build_feeds",
    "load_settings",
]
