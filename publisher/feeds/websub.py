"""Tell a WebSub hub (W3C WebSub) which feeds changed, so readers get pushes in seconds.

The publisher POSTs ``hub.mode=publish`` and ``hub.url=<feed URL>`` to the hub
(WebSub §6 leaves the publish request to the hub; this form is the one common
hubs accept). A hub that is down or answers 5xx/429 is retried with
exponential backoff; a 4xx is not retried. A failure never fails a build: it is
returned for the caller to report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

__all__ = ["notify_hub"]


def notify_hub(
    hub: str,
    topics: Sequence[str],
    *,
    attempts: int = 4,
    backoff: float = 1.0,
    timeout: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    transport: httpx.BaseTransport | None = None,
) -> list[str]:
    """Publish each topic URL to ``hub``; the reasons of those that failed.

    ``transport`` is httpx's: none means the network; tests pass an
    ``httpx.MockTransport`` or talk to a real hub on 127.0.0.1.

    >>> notify_hub("http://127.0.0.1:9/hub", ["https://x.org/feeds/atom.xml"],
    ...            attempts=1)                                  # doctest: +SKIP
    ['https://x.org/feeds/atom.xml: connection refused']
    """
    import httpx

    failures: list[str] = []
    with httpx.Client(timeout=timeout, transport=transport) as client:
        for topic in topics:
            reason = _publish(client, hub, topic, attempts, backoff, sleep)
            if reason:
                failures.append(f"{topic}: {reason}")
    return failures


def _publish(
    client: object,
    hub: str,
    topic: str,
    attempts: int,
    backoff: float,
    sleep: Callable[[float], None],
) -> str:
    import httpx

    assert isinstance(client, httpx.Client)
    reason = ""
    for attempt in range(attempts):
        try:
            response = client.post(hub, data={"hub.mode": "publish", "hub.url": topic})
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
        else:
            if response.status_code < 300:
                return ""
            reason = f"hub answered {response.status_code}"
            if response.status_code < 500 and response.status_code != 429:
                return reason  # the hub refuses this request: retrying will not help
        if attempt + 1 < attempts:
            sleep(backoff * 2**attempt)
    return reason
