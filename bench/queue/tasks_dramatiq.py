"""Raw Dramatiq: a RedisBroker with its default middleware and the two bench actors.

    python -m dramatiq bench.queue.tasks_dramatiq --processes P --threads T
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from bench.queue import record

broker = RedisBroker(url=record.url())
dramatiq.set_broker(broker)
noop, sleep = record.declare_actors(broker)
