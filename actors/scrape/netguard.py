"""Moved to :mod:`pools.net.netguard` (shared by the scraper, webhooks and HTTP jobs)."""

from pools.net.netguard import (  # noqa: F401
    AddressRefused,
    IPAddress,
    allowed_networks,
    check_address,
    parse_ip_literal,
    refusal_reason,
)
