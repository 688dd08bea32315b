"""Shared fixtures: real servers only.

``redis_url`` is an embedded Valkey started once per session (or ``REDIS_URL`` when set, so the
suite can run against any Redis 6+ / Valkey server).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pools.embedded import EmbeddedValkey

sys.path.insert(0, str(Path(__file__).parent))
from stack_support import Stack  # noqa: E402


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("REDIS_URL")  # the suite's own switch, not app config
    if external:
        yield external
        return
    server = EmbeddedValkey(Path(tmp_path_factory.mktemp("valkey")))
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture()
def redis_client(redis_url: str) -> Iterator[object]:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture()
def make_stack(redis_url: str, tmp_path: Path):
    stacks: list[Stack] = []

    def factory(**env: str) -> Stack:
        stack = Stack(redis_url, tmp_path, **env)
        stacks.append(stack)
        return stack

    yield factory
    for stack in stacks:
        stack.close()


@pytest.fixture(scope="module")
def stack(redis_url: str, tmp_path_factory: pytest.TempPathFactory):
    """An API and one cpu-pool worker process, ready; shared by a test module."""
    s = Stack(redis_url, tmp_path_factory.mktemp("stack"))
    try:
        s.start_api()
        s.start_pool("cpu", processes=1, threads=4)
        yield s
    finally:
        s.close()
