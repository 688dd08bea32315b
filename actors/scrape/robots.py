"""robots.txt with RFC 9309 semantics, parsed by protego.

* 2xx: parse the rules (after following up to the fetch's redirect limit).
* 4xx (the file is "unavailable"): everything is allowed.
* 5xx, or the server unreachable (connect error, timeout): complete disallow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from actors.scrape.fetch import FetchLimits, HopCheck, fetch
from actors.scrape.outcomes import Outcome, ScrapeError

if TYPE_CHECKING:
    from protego import Protego


@dataclass(frozen=True)
class RobotsPolicy:
    """What robots.txt allows one user agent. ``status`` says why (for reports)."""

    status: str  # "parsed", "unavailable" (4xx), "unreachable" (5xx, network)
    rules: Protego | None = None
    allow_all: bool = False
    outcome: Outcome | None = None  # the outcome when unreachable
    detail: str = ""
    answered: bool = True  # False when no HTTP answer came at all (connect error, timeout)

    def can_fetch(self, url: str, agent: str) -> bool:
        if self.rules is not None:
            return bool(self.rules.can_fetch(url, agent))
        return self.allow_all

    def crawl_delay(self, agent: str, cap_s: float) -> float:
        """Crawl-delay for ``agent`` (request-rate counted too), limited to ``cap_s``."""
        if self.rules is None:
            return 0.0
        delay = self.rules.crawl_delay(agent) or 0.0
        rate: Any = self.rules.request_rate(agent)
        if rate is not None and rate.requests:
            delay = max(delay, rate.seconds / rate.requests)
        return max(0.0, min(float(delay), cap_s))


def parse_robots(text: str) -> RobotsPolicy:
    from protego import Protego

    return RobotsPolicy(status="parsed", rules=Protego.parse(text))


def policy_for_status(status: int, text: str | None) -> RobotsPolicy:
    """RFC 9309 section 2.3.1 applied to a final HTTP status."""
    if 200 <= status < 300:
        return parse_robots(text or "")
    if 400 <= status < 500:
        return RobotsPolicy(status="unavailable", allow_all=True, detail=f"HTTP {status}")
    return RobotsPolicy(status="unreachable", outcome=Outcome.UNREACHABLE,
                        detail=f"robots.txt answered HTTP {status}: complete disallow")


async def fetch_robots(client: httpx.AsyncClient, origin: str, limits: FetchLimits, *,
                       check: HopCheck | None = None) -> RobotsPolicy:
    """Fetch and interpret ``origin/robots.txt``. Refused addresses still raise ``ScrapeError``."""
    url = origin.rstrip("/") + "/robots.txt"
    try:
        result = await fetch(client, url, limits, accept=None, check=check)
    except ScrapeError as exc:
        if exc.outcome in (Outcome.BLOCKED, Outcome.TOO_LARGE):
            if exc.outcome is Outcome.TOO_LARGE:  # RFC: parse at least the first 500 KiB
                return RobotsPolicy(status="unreachable", outcome=Outcome.TOO_LARGE,
                                    detail=exc.message)
            raise
        return RobotsPolicy(status="unreachable", outcome=exc.outcome, answered=False,
                            detail=f"robots.txt unreachable: {exc.message}")
    return policy_for_status(result.status, result.text)
