"""Settings: the site's ``_config.yml``, then ``publisher.toml``, then the environment.

Precedence, lowest first:

1. embedded defaults (everything works with no file at all);
2. the Jekyll site's own ``_config.yml`` (title, description, url, baseurl,
   timezone, lang, permalink, excerpt_separator, author), so nothing is
   configured twice;
3. publisher's TOML file: ``--config FILE``, else ``publisher.toml`` or
   ``config/publisher.toml`` in the site folder;
4. environment variables ``PUBLISHER_<SECTION>__<KEY>`` (a TOML value or a bare
   string), e.g. ``PUBLISHER_FEEDS__LIMIT=50``.

The result is a frozen, validated :class:`Settings`. An unknown key or a wrong
type raises :class:`~publisher.errors.ConfigError` naming the key.

>>> s = load_settings(Path("examples/site"))            # doctest: +SKIP
>>> s.feeds.limit                                       # doctest: +SKIP
20
"""

from publisher.config.load import find_config_file, load_settings, resolve_output
from publisher.config.model import (
    STATE_DIR,
    BounceSettings,
    ContentSettings,
    DatabaseSettings,
    DigestSettings,
    FeedSettings,
    PathSettings,
    RunSettings,
    Settings,
    SiteSettings,
    SmtpSettings,
    WebSettings,
)

__all__ = [
    "STATE_DIR",
    "BounceSettings",
    "ContentSettings",
    "DatabaseSettings",
    "DigestSettings",
    "FeedSettings",
    "PathSettings",
    "RunSettings",
    "Settings",
    "SiteSettings",
    "SmtpSettings",
    "WebSettings",
    "find_config_file",
    "load_settings",
    "resolve_output",
]
