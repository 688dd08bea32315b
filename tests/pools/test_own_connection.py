"""A thread's own Redis connection (``pools.own_connection``) on a real Valkey."""

from __future__ import annotations

import threading

import pytest
import redis

from pools.jobs import JobStore
from pools.own_connection import OwnConnections


def _client_id(own: OwnConnections) -> int:
    return int(own.call("CLIENT", "ID"))


def test_a_thread_keeps_one_connection_and_another_thread_gets_its_own(redis_client):
    own = OwnConnections(redis_client)
    first = _client_id(own)
    assert _client_id(own) == first
    other: list[int] = []
    thread = threading.Thread(target=lambda: other.append(_client_id(own)))
    thread.start()
    thread.join()
    assert other and other[0] != first
    own.close()


def test_an_error_reply_leaves_the_connection_in_step(redis_client):
    own = OwnConnections(redis_client)
    before = _client_id(own)
    redis_client.set("a-string", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        own.call("LPUSH", "a-string", "y")
    assert own.call("GET", "a-string") == b"x"  # this reply, not a stale one
    assert _client_id(own) == before
    own.close()


def test_a_connection_the_server_dropped_fails_once_and_the_next_call_reconnects(redis_client):
    own = OwnConnections(redis_client)
    dropped = _client_id(own)
    redis_client.client_kill_filter(_id=dropped)
    with pytest.raises(redis.ConnectionError):
        own.call("PING")
    assert own.call("PING") in (b"PONG", True)
    assert _client_id(own) != dropped
    own.close()


def test_the_connection_uses_the_clients_database(redis_client):
    own = OwnConnections(redis_client)
    redis_client.set("where", "this-db")
    assert own.call("GET", "where") == b"this-db"
    own.close()


def test_a_start_on_the_own_connection_reloads_a_script_the_server_forgot(redis_client):
    store = JobStore(redis_client)
    store.create("job-1", kind="diag", queue="diag", actor="diag")
    redis_client.script_flush()
    moved = store.move_own("job-1", "start", started_at=1.0, worker="here:1")
    assert (moved.applied, moved.previous, moved.event) == (True, "queued", "start")
    record = store.get("job-1")
    assert (record["status"], record["attempts"], record["worker"]) == ("running", 1, "here:1")
    refused = store.move_own("job-1", "cancel")
    assert (refused.applied, refused.previous) == (False, "running")
