"""The dynamic batcher: flushing on size and on wait, per-item failures, OOM halving."""

from __future__ import annotations

import threading
import time

import pytest

from actors.embed.batcher import BatchOutOfMemory, DynamicBatcher, is_out_of_memory
from actors.embed.model import SimulatedOutOfMemory
from pools.errors import TransientError


def _double(items: list[int]) -> list[int]:
    return [i * 2 for i in items]


def test_a_full_batch_runs_at_once_without_waiting_for_the_deadline() -> None:
    with DynamicBatcher(_double, max_batch=4, max_wait_ms=10_000) as b:
        started = time.monotonic()
        futures = b.submit_many(range(8))
        assert [f.result(timeout=5) for f in futures] == [i * 2 for i in range(8)]
        assert time.monotonic() - started < 5
        assert list(b.batch_sizes) == [4, 4]
        assert b.stats.last_batch_size == 4


def test_a_partial_batch_runs_when_its_oldest_item_has_waited_max_wait() -> None:
    with DynamicBatcher(_double, max_batch=100, max_wait_ms=80) as b:
        started = time.monotonic()
        futures = b.submit_many([1, 2, 3])
        assert [f.result(timeout=5) for f in futures] == [2, 4, 6]
        elapsed = time.monotonic() - started
        assert 0.07 <= elapsed < 3
        assert list(b.batch_sizes) == [3]
        assert b.stats.last_wait_ms >= 70


def test_many_threads_each_get_their_own_result_in_shared_batches() -> None:
    results: dict[int, int] = {}
    with DynamicBatcher(_double, max_batch=32, max_wait_ms=20) as b:

        def worker(base: int) -> None:
            for i in range(base, base + 25):
                results[i] = b.submit(i).result(timeout=10)

        threads = [threading.Thread(target=worker, args=(k * 100,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == {i: i * 2 for i in results} and len(results) == 200
        assert max(b.batch_sizes) > 1  # threads really shared batches
        assert b.stats.items == 200


def test_an_exception_in_one_slot_fails_only_that_item() -> None:
    def run(items: list[int]) -> list[object]:
        return [ValueError(f"bad {i}") if i == 3 else i for i in items]

    with DynamicBatcher(run, max_batch=8, max_wait_ms=5) as b:
        out = b.map([1, 2, 3, 4])
    assert out[:2] == [1, 2] and out[3] == 4
    assert isinstance(out[2], ValueError) and str(out[2]) == "bad 3"


def test_out_of_memory_halves_the_batch_until_it_fits_and_keeps_the_lower_limit() -> None:
    def run(items: list[int]) -> list[int]:
        if len(items) > 3:
            raise SimulatedOutOfMemory(len(items), 3)
        return _double(items)

    with DynamicBatcher(run, max_batch=16, max_wait_ms=50, recover_after=1000) as b:
        assert b.map(list(range(16))) == [i * 2 for i in range(16)]
        sizes = list(b.batch_sizes)
        assert sizes[:3] == [16, 8, 4]  # halving observed
        assert all(s <= 3 for s in sizes[3:]) and sum(s for s in sizes if s <= 3) == 16
        assert b.stats.oom_events >= 3
        assert b.stats.batch_limit == 2
        b.map(list(range(6)))
        assert max(list(b.batch_sizes)[-3:]) <= 2  # the next batches start at the lower limit


def test_the_limit_doubles_back_after_enough_successful_batches() -> None:
    budget = {"n": 2}

    def run(items: list[int]) -> list[int]:
        if len(items) > budget["n"]:
            raise SimulatedOutOfMemory(len(items), budget["n"])
        return _double(items)

    with DynamicBatcher(run, max_batch=8, max_wait_ms=1, recover_after=2) as b:
        b.map(list(range(8)))
        assert b.stats.oom_events >= 2 and b.stats.batch_limit < 8
        budget["n"] = 8
        for _ in range(4):
            b.map([1, 2])
        assert b.stats.batch_limit == 8


def test_out_of_memory_at_the_minimum_batch_fails_as_transient() -> None:
    def run(items: list[int]) -> list[int]:
        raise SimulatedOutOfMemory(len(items), 0)

    with DynamicBatcher(run, max_batch=4, max_wait_ms=5, min_batch=2) as b:
        out = b.map([1, 2, 3, 4])
    assert all(isinstance(o, BatchOutOfMemory) for o in out)
    assert isinstance(out[0], TransientError)


def test_a_crash_of_the_whole_run_fails_every_item_of_that_batch_only() -> None:
    calls = {"n": 0}

    def run(items: list[int]) -> list[int]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyError("boom")
        return _double(items)

    with DynamicBatcher(run, max_batch=2, max_wait_ms=10_000) as b:
        first = b.map([1, 2])
        second = b.map([3, 4])
    assert all(isinstance(o, KeyError) for o in first)
    assert second == [6, 8]


def test_cuda_and_simulated_out_of_memory_are_recognised_and_others_are_not() -> None:
    import torch

    assert is_out_of_memory(torch.cuda.OutOfMemoryError("CUDA out of memory"))
    assert is_out_of_memory(SimulatedOutOfMemory(4, 2))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))


def test_a_closed_batcher_refuses_new_items() -> None:
    b = DynamicBatcher(_double, max_batch=2, max_wait_ms=1)
    assert b.map([5]) == [10]
    b.close()
    with pytest.raises(RuntimeError, match="closed"):
        b.submit(1)


def test_an_urgent_item_goes_ahead_of_queued_work_in_the_next_batch() -> None:
    release, batches = threading.Event(), []

    def run(items: list[str]) -> list[str]:
        batches.append(list(items))
        release.wait(10)  # the first batch holds the runner while more work queues up
        return items

    with DynamicBatcher(run, max_batch=4, max_wait_ms=60_000) as b:  # full batches only
        first = b.submit_many([f"first-{i}" for i in range(4)])
        while not batches:
            time.sleep(0.001)
        bulk = b.submit_many([f"bulk-{i}" for i in range(1, 8)])
        query = b.submit("query", urgent=True)
        release.set()
        assert query.result(timeout=30) == "query"
        assert [f.result(timeout=30) for f in first + bulk]
    assert batches[1] == ["query", "bulk-1", "bulk-2", "bulk-3"], batches
    assert batches[2] == ["bulk-4", "bulk-5", "bulk-6", "bulk-7"], batches
