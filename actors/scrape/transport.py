"""Moved to :mod:`pools.net.transport` (shared by the scraper, webhooks and HTTP jobs)."""

from pools.net.transport import (  # noqa: F401
    GuardedBackend,
    GuardedTransport,
    Resolver,
    default_ssl_context,
    static_resolver,
    system_resolver,
)
