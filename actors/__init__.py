"""Every actor of repertory, declared on the broker built from settings.

``dramatiq actors --queues solve scrape`` imports this package: that builds the broker (no
connection is made until it is used) and declares every actor. Heavy resources are created
later, in worker boot hooks (``pools.middleware.resources``).
"""

from config.settings import get_settings
from pools.broker import build_broker

broker = build_broker(get_settings())

from actors import diag, notify, schedules  # noqa: E402,F401  (declare actors)
from actors.embed import actor as _embed  # noqa: E402,F401
from actors.http import actor as _http  # noqa: E402,F401
from actors.index import actor as _index  # noqa: E402,F401
from actors.index import admin as _index_admin  # noqa: E402,F401
from actors.scrape import actor as _scrape  # noqa: E402,F401
from actors.solve import actor as _solve  # noqa: E402,F401

__all__ = ["broker"]
