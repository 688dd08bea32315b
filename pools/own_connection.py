"""Each thread's own Redis connection, for the one command a worker thread makes per job.

redis-py's client spends as much CPU around a command as on it: the pool's lock, a check for
stale data on the socket before every command (a system call), a retry wrapper, then giving
the connection back. A worker thread waits for the answer to its job's ``start`` move before
it runs the job (``pools.middleware.job_state``), once per job: on its own connection that
round trip costs about half the CPU (``bench/queue``, issue #13).

The contract: a connection belongs to one thread and is never shared or returned to a pool.
A command either gets its whole reply (an error reply included: the connection stays in
step) or the connection is closed, so no half-read reply is ever taken for the next one's.
Connection errors propagate unchanged (callers ride them out with ``through_outage``); the
next command reconnects.
"""

from __future__ import annotations

import threading
from typing import Any

import redis


class OwnConnections:
    """``call(*command)`` on the calling thread's own connection to ``client``'s server."""

    def __init__(self, client: redis.Redis) -> None:
        self._pool = client.connection_pool
        self._local = threading.local()

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:  # same server, database, credentials and options as the pool
            connection = self._pool.connection_class(**self._pool.connection_kwargs)
            self._local.connection = connection
        return connection

    def call(self, *command: Any) -> Any:
        connection = self._connection()
        try:
            connection.send_command(*command)
            return connection.read_response()
        except redis.ResponseError:
            raise  # a whole reply was read: the connection is still in step
        except BaseException:
            connection.disconnect()
            raise

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.disconnect()
