"""Group submit (pools.coalesce) against a real Valkey: calls made together share one pipeline,
and each still gets exactly its own reply or error."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis.asyncio
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from pools.coalesce import Coalescer

# Appends ARGV[1] to KEYS[1] and returns the new length; 'boom' is an error of its own.
SCRIPT = """
if ARGV[1] == 'boom' then return redis.error_reply('boom refused') end
return redis.call('rpush', KEYS[1], ARGV[1])
"""


def _in_new_loop(coro) -> object:
    """``asyncio.run`` on a thread of its own: the browser tests' sync Playwright keeps an
    event loop running on the main thread for the session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _run(redis_url: str, body) -> object:
    async def main() -> object:
        client = redis.asyncio.Redis.from_url(redis_url)
        try:
            await client.delete("coalesce:list")
            return await body(client)
        finally:
            await client.aclose()

    return _in_new_loop(main())


def test_calls_made_together_go_out_in_one_pipeline_each_with_its_own_reply(redis_url):
    async def body(client):
        coalescer = Coalescer(client, SCRIPT)
        replies = await asyncio.gather(*(coalescer.run(["coalesce:list"], [str(i)])
                                         for i in range(50)))
        stored = await client.lrange("coalesce:list", 0, -1)
        return coalescer.flushes, replies, stored

    flushes, replies, stored = _run(redis_url, body)
    assert flushes == 1
    assert sorted(replies) == list(range(1, 51))
    assert [int(v) for v in stored] == list(range(50))  # in call order


def test_one_calls_error_does_not_touch_the_others(redis_url):
    async def body(client):
        coalescer = Coalescer(client, SCRIPT)
        return await asyncio.gather(*(coalescer.run(["coalesce:list"], [arg])
                                      for arg in ("a", "boom", "b")), return_exceptions=True)

    first, refused, second = _run(redis_url, body)
    assert (first, second) == (1, 2)
    assert isinstance(refused, ResponseError) and "boom refused" in str(refused)


@pytest.mark.parametrize("together", [1, 3])
def test_a_script_flushed_by_the_server_is_loaded_again(redis_url, together):
    async def body(client):
        coalescer = Coalescer(client, SCRIPT)
        await coalescer.run(["coalesce:list"], ["before"])
        await client.script_flush()  # as after a server restart
        replies = await asyncio.gather(*(coalescer.run(["coalesce:list"], [str(i)])
                                         for i in range(together)))
        return replies, await client.llen("coalesce:list")

    replies, length = _run(redis_url, body)
    # each call ran exactly once, alone (a plain EVALSHA) or in a pipeline
    assert sorted(replies) == list(range(2, 2 + together)) and length == 1 + together


def test_a_lone_calls_error_is_raised_to_it_and_the_next_call_still_runs(redis_url):
    async def body(client):
        coalescer = Coalescer(client, SCRIPT)
        try:
            await coalescer.run(["coalesce:list"], ["boom"])
        except ResponseError as exc:
            refused = exc
        return refused, await coalescer.run(["coalesce:list"], ["after"]), coalescer.flushes

    refused, after, flushes = _run(redis_url, body)
    assert "boom refused" in str(refused)
    assert after == 1 and flushes == 2


@pytest.mark.parametrize("together", [1, 3])
def test_a_connection_failure_reaches_every_caller_of_that_flush(together):
    async def body():
        client = redis.asyncio.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
        coalescer = Coalescer(client, SCRIPT)
        try:
            return await asyncio.gather(*(coalescer.run(["k"], ["x"]) for _ in range(together)),
                                        return_exceptions=True)
        finally:
            await client.aclose()

    outcomes = _in_new_loop(body())
    assert len(outcomes) == together
    assert all(isinstance(o, RedisConnectionError) for o in outcomes), outcomes


@pytest.mark.parametrize("n", [1, 7])
def test_calls_on_successive_loop_iterations_each_get_their_reply(redis_url, n):
    async def body(client):
        coalescer = Coalescer(client, SCRIPT)
        return [await coalescer.run(["coalesce:list"], [str(i)]) for i in range(n)]

    assert _run(redis_url, body) == list(range(1, n + 1))
