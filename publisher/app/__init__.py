"""The use cases: the only API the edges (CLI, web, scheduler) call.

Each use case wires the pure stages and the adapters together and does its
I/O last; none holds SQL, SMTP or templates of its own.
"""

from publisher.app.build import (
    BuildReport,
    BuildRequest,
    build_feeds,
    load_site_settings,
    parse_time,
)

__all__ = ["BuildReport", "BuildRequest", "build_feeds", "load_site_settings", "parse_time"]
