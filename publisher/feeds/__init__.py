"""Feeds: which feeds exist (pure planning) and their bytes (Atom, RSS, JSON Feed)."""

from publisher.feeds.output import Manifest, plan_key, render_feed
from publisher.feeds.plan import FeedPlan, plan_feeds

__all__ = ["FeedPlan", "Manifest", "plan_feeds", "plan_key", "render_feed"]
