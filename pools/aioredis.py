"""The asyncio Redis client of the API: commands packed by hiredis, as the sync client does.

redis-py's asyncio connections pack every command in Python (redis/redis-py#4176, open; its
sync connections have used ``hiredis.pack_command`` since redis/redis-py#2570). A submission
is one script call of about 50 arguments (the record's fields, the message): packing it took
73 µs in Python and 13 µs with hiredis on the development VM, the largest single cost of an
accepted submission after the HTTP server itself (docs/benchmarks.md, eleventh session).

The packer is redis-py's own ``HiredisRespSerializer``: byte for byte what redis-py's Python
packer writes (``tests/pools/test_aioredis.py``); a command holding a ``memoryview`` keeps the
Python path, which sends large buffers without copying them.
"""

from __future__ import annotations

import functools
from typing import Any

import redis.asyncio
from redis.connection import HiredisRespSerializer
from redis.utils import HIREDIS_AVAILABLE


class _HiredisPacking:
    """Mixed in before an asyncio connection class."""

    _packer = HiredisRespSerializer()

    def pack_command(self, *args: Any) -> list[bytes]:
        if any(isinstance(arg, memoryview) for arg in args):
            return super().pack_command(*args)  # type: ignore[misc]
        return self._packer.pack(*args)


@functools.cache
def packed(connection_class: type) -> type:
    """``connection_class`` with hiredis packing (one class per base, made once)."""
    return type(f"Packed{connection_class.__name__}", (_HiredisPacking, connection_class), {})


def async_client(url: str, **kwargs: Any) -> redis.asyncio.Redis:
    """``redis.asyncio.Redis.from_url(url)`` whose connections pack with hiredis when it is
    installed (any scheme: TCP, TLS or a Unix socket keep their own connection class)."""
    client = redis.asyncio.Redis.from_url(url, **kwargs)
    if HIREDIS_AVAILABLE:
        pool = client.connection_pool
        pool.connection_class = packed(pool.connection_class)
    return client
