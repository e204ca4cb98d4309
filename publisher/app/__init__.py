"""The use cases: the one front door the edges (CLI, web, scheduler) come through.

Each use case wires the pure stages and the adapters together and does its
I/O last; none holds SQL, SMTP or templates of its own. The modules, one per
use case:

====================  ===========================================================
module                what it holds
====================  ===========================================================
``build``             ``build_feeds``: read the posts, write the feeds that changed
``check``             ``check_site``: what a post generator left in the posts, and fixing it
``editions``          an edition's plan, its rendered draft, the per-subscriber composer
``sending``           preview, test copy, send (or resume) an edition, status
``subscriber_list``   the operator's list: add, remove, list, import/export CSV
``signup``            the public side: subscribe, confirm, unsubscribe, preferences
``console_send``      the editors' console: what is next, a test copy, a send in a thread
``console_access``    the console's password hash, sessions (``console_throttle``: failed logins)
``deliveries``        ``publisher worker``: deliver unfinished editions pass by pass
``runner_jobs``       ``publisher run``'s jobs, its lock, its overview
``schedule``          pure: when the digest runs, missed runs, wake-ups
``reloading``         settings changed under a running ``publisher run``
``setup_site``        ``publisher init``: publisher.toml, .gitignore, Jekyll's exclude
``database``          create or migrate the database
``bounces``           read the bounce mailbox: bounces and complaints recorded
``context``           one command's settings, clocks, database and secret
====================  ===========================================================

Names are loaded on first use (PEP 562), so ``publisher build`` imports no
database, template or mail library: ``from publisher.app import send_digest``
imports :mod:`publisher.app.sending` then, not before.

>>> from publisher.app import build_feeds, send_digest      # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from publisher.app.bounces import BounceReport, read_bounces
    from publisher.app.build import BuildReport, BuildRequest, build_feeds, check_hint
    from publisher.app.check import CheckReport, CheckRequest, FileFix, check_site
    from publisher.app.console_access import console_configured
    from publisher.app.console_send import SendJob, next_edition, send_test_copy
    from publisher.app.context import Context
    from publisher.app.database import upgrade_database
    from publisher.app.deliveries import DeliveryWorker
    from publisher.app.reloading import SettingsChange, reload_settings, settings_stamp
    from publisher.app.runner_jobs import (
        RunOutcome,
        refresh_feeds,
        retry_deliveries,
        schedule_overview,
        send_scheduled_digest,
    )
    from publisher.app.schedule import digest_trigger, due_wakeup, resume_run_time
    from publisher.app.sending import (
        SendReport,
        digest_status,
        paused_edition,
        preview_digest,
        resume_digest,
        send_digest,
        send_test,
    )
    from publisher.app.setup_site import InitReport, InitRequest, init_site
    from publisher.app.signup import confirm, subscribe, unsubscribe_by_token
    from publisher.app.subscriber_list import (
        add_subscriber,
        export_csv,
        import_csv,
        list_subscribers,
        remove_subscriber,
    )

_HOME = {
    "BounceReport": "bounces",
    "read_bounces": "bounces",
    "BuildReport": "build",
    "BuildRequest": "build",
    "build_feeds": "build",
    "check_hint": "build",
    "CheckReport": "check",
    "CheckRequest": "check",
    "FileFix": "check",
    "check_site": "check",
    "Context": "context",
    "console_configured": "console_access",
    "SendJob": "console_send",
    "next_edition": "console_send",
    "send_test_copy": "console_send",
    "upgrade_database": "database",
    "DeliveryWorker": "deliveries",
    "SettingsChange": "reloading",
    "reload_settings": "reloading",
    "settings_stamp": "reloading",
    "digest_trigger": "schedule",
    "due_wakeup": "schedule",
    "resume_run_time": "schedule",
    "RunOutcome": "runner_jobs",
    "refresh_feeds": "runner_jobs",
    "retry_deliveries": "runner_jobs",
    "schedule_overview": "runner_jobs",
    "send_scheduled_digest": "runner_jobs",
    "SendReport": "sending",
    "digest_status": "sending",
    "paused_edition": "sending",
    "preview_digest": "sending",
    "resume_digest": "sending",
    "send_digest": "sending",
    "send_test": "sending",
    "InitReport": "setup_site",
    "InitRequest": "setup_site",
    "init_site": "setup_site",
    "confirm": "signup",
    "subscribe": "signup",
    "unsubscribe_by_token": "signup",
    "add_subscriber": "subscriber_list",
    "export_csv": "subscriber_list",
    "import_csv": "subscriber_list",
    "list_subscribers": "subscriber_list",
    "remove_subscriber": "subscriber_list",
}

__all__ = [
    "BounceReport",
    "BuildReport",
    "BuildRequest",
    "CheckReport",
    "CheckRequest",
    "Context",
    "DeliveryWorker",
    "FileFix",
    "InitReport",
    "InitRequest",
    "RunOutcome",
    "SendJob",
    "SendReport",
    "SettingsChange",
    "add_subscriber",
    "build_feeds",
    "check_hint",
    "check_site",
    "confirm",
    "console_configured",
    "digest_status",
    "digest_trigger",
    "due_wakeup",
    "export_csv",
    "import_csv",
    "init_site",
    "list_subscribers",
    "next_edition",
    "paused_edition",
    "preview_digest",
    "read_bounces",
    "refresh_feeds",
    "reload_settings",
    "remove_subscriber",
    "resume_digest",
    "resume_run_time",
    "retry_deliveries",
    "schedule_overview",
    "send_digest",
    "send_scheduled_digest",
    "send_test",
    "send_test_copy",
    "settings_stamp",
    "subscribe",
    "unsubscribe_by_token",
    "upgrade_database",
]


assert set(__all__) == set(_HOME)


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'publisher.app' has no attribute {name!r}")
    return getattr(importlib.import_module(f"publisher.app.{module}"), name)
