"""Feeds: which feeds exist (pure planning) and their bytes (Atom, RSS, JSON Feed)."""

from publisher.feeds.output import Manifest, plan_key, render_feed
from publisher.feeds.plan import FeedPlan, feed_url, plan_feeds

__all__ = ["FeedPlan", "Manifest", "feed_url", "plan_feeds", "plan_key", "render_feed"]
