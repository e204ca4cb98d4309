"""Whether the process behind a worker or runner id (``host:pid:tag``) has ended.

Shared by the outbox (claims of a crashed sender are given back at once) and
the runner lock (a standby takes over from a crashed runner at once), both only
for ids of this host: a pid means nothing on another machine.

>>> process_alive("123:ab12cd34")                  # doctest: +SKIP
False
>>> ended_here("web-1:123:ab12cd34", "web-1")      # doctest: +SKIP
True
"""

from __future__ import annotations

import os
import socket
import uuid

__all__ = ["ended_here", "process_alive", "process_id"]


def process_id() -> str:
    """A new id for this process as a sender or runner: ``host:pid:tag`` (unique per call)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def process_alive(rest: str) -> bool:
    """Whether the process named by ``pid:...`` may still run (unknown counts as running)."""
    pid = rest.partition(":")[0]
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, under another user
        return True
    return True


def ended_here(owner: str, host: str) -> bool:
    """Whether ``owner`` (``host:pid:tag``) names a process on ``host`` that has ended."""
    owner_host, _, rest = owner.partition(":")
    return owner_host == host and bool(rest) and not process_alive(rest)
