"""repertory's job path with bench actors: the product's broker and middleware, job records.

    REDIS_URL=... python -m dramatiq bench.queue.rep_actors --processes P --threads T

The broker is ``pools.broker.build_broker(get_settings())``, as in ``actors/__init__.py``:
every job submitted through ``pools.service.JobService`` has a record whose state the
middleware moves (queued → running → succeeded), plus recovery, heartbeats and retries.
"""

from __future__ import annotations

from bench.queue import record
from config.settings import get_settings
from pools.broker import build_broker

broker = build_broker(get_settings())
noop, sleep = record.declare_actors(broker)
