"""The API's asyncio Redis client packs commands with hiredis: the same bytes as redis-py's
Python packer, the same values through a real server, the same errors."""

from __future__ import annotations

import asyncio

import pytest
import redis
import redis.asyncio
from redis.asyncio.connection import Connection, UnixDomainSocketConnection

from pools.aioredis import async_client, packed

ARGUMENTS = [
    ("SET", "key", "value"),
    ("EVALSHA", "9f" * 20, 2, "repertory:job:a", "repertory:q", 1.1, 1732000000.123456, -5, 0),
    ("HSET", "h", "é", "ünïcødé ✓", b"\x00\xff\r\n", b"", "", 1e20, 1e-7),
    ("SET", "big", "x" * 20_000),  # over redis-py's buffer cutoff: chunked by the Python packer
    ("CONFIG GET", "maxmemory"),  # a command name with a space is split into two arguments
    (b"CLIENT SETNAME", b"name"),
]


@pytest.mark.parametrize("args", ARGUMENTS, ids=[" ".join(map(str, a[:2]))[:30] for a in ARGUMENTS])
def test_commands_are_packed_to_the_same_bytes_as_redis_pys_python_packer(args):
    ours, theirs = packed(Connection)(), Connection()
    assert b"".join(ours.pack_command(*args)) == b"".join(theirs.pack_command(*args))
    assert b"".join(ours.pack_commands([args, args])) == b"".join(
        theirs.pack_commands([args, args]))


def test_a_command_holding_a_memoryview_is_packed_by_the_python_path_without_a_copy():
    view = memoryview(b"y" * 20_000)
    chunks = packed(Connection)().pack_command("SET", "k", view)
    assert any(chunk is view for chunk in chunks)


def test_an_argument_redis_cannot_take_is_refused_with_redis_pys_error():
    with pytest.raises(redis.DataError):
        packed(Connection)().pack_command("SET", "k", None)


def test_every_kind_of_url_keeps_its_own_connection_class(tmp_path):
    tcp = async_client("redis://127.0.0.1:1/0")
    unix = async_client(f"unix://{tmp_path}/redis.sock")
    assert issubclass(tcp.connection_pool.connection_class, Connection)
    assert tcp.connection_pool.connection_class.__name__ == "PackedConnection"
    assert issubclass(unix.connection_pool.connection_class, UnixDomainSocketConnection)


def test_values_scripts_and_pipelines_round_trip_through_a_real_server(redis_url, redis_client):
    values = {"text": "ünïcødé ✓", "bytes": b"\x00\xff\r\n", "empty": "", "int": 42,
              "float": 1732000000.123456, "big": "z" * 50_000}

    async def run() -> tuple[dict, list, int]:
        client = async_client(redis_url)
        try:
            await client.hset("h", mapping=values)
            script = client.register_script("return redis.call('hlen', KEYS[1]) + ARGV[1]")
            pipe = client.pipeline(transaction=False)
            pipe.hget("h", "float")
            pipe.hget("h", "big")
            pipe.evalsha(await client.script_load(script.script), 1, "h", 100)
            return await client.hgetall("h"), await pipe.execute(), await script(["h"], [1])
        finally:
            await client.aclose()

    stored, replies, scripted = asyncio.run(run())
    assert stored == {k.encode(): v if isinstance(v, bytes) else str(v).encode()
                      for k, v in values.items()}
    assert redis_client.hget("h", "text").decode() == "ünïcødé ✓"
    assert float(replies[0]) == 1732000000.123456
    assert replies[1] == b"z" * 50_000
    assert replies[2] == len(values) + 100
    assert scripted == len(values) + 1
