"""The group commit (``pools.committer``) on a real worker and a real Valkey: what a finished
job writes, and in which MULTI/EXEC, read off the server's own command stream (MONITOR)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
import redis

from config.settings import Settings
from pools.broker import build_broker
from pools.service import JobService


class CommandLog:
    """Every command the server runs while it is open (MONITOR), by client connection."""

    def __init__(self, url: str) -> None:
        self._monitor = redis.Redis.from_url(url).monitor()
        self._monitor.__enter__()
        self.commands: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for command in self._monitor.listen():
                self.commands.append(command)
        except (redis.ConnectionError, ValueError, AttributeError):
            return  # closed

    def close(self) -> None:
        self._monitor.__exit__(None, None, None)

    def transactions(self) -> list[list[str]]:
        """The commands of each MULTI … EXEC, per client, in order (Lua's own calls left out)."""
        open_: dict[str, list[str]] = {}
        done: list[list[str]] = []
        for entry in list(self.commands):
            if entry.get("client_type") == "lua":
                continue
            client, text = entry["client_address"], entry["command"]
            verb = text.split(" ", 1)[0].upper()
            if verb == "MULTI":
                open_[client] = []
            elif verb == "EXEC" and client in open_:
                done.append(open_.pop(client))
            elif client in open_:
                open_[client].append(text)
        return done


@pytest.fixture()
def worker_and_service(redis_url: str, redis_client: Any,
                       monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, JobService]]:
    monkeypatch.setenv("REDIS_URL", redis_url)
    settings = Settings()
    broker = build_broker(settings, set_global=False)

    @dramatiq.actor(broker=broker, queue_name="commit", store_results=True, max_retries=0)
    def answer(x: int) -> dict[str, int]:
        return {"answer": x * 2}

    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        yield broker, JobService(settings, broker)
    finally:
        worker.stop()


def test_a_jobs_result_its_succeeded_move_and_its_ack_go_out_in_one_transaction(
        redis_url: str, worker_and_service: tuple[Any, JobService]) -> None:
    broker, service = worker_and_service
    log = CommandLog(redis_url)
    try:
        job_id = service.submit("answer", kind="commit-test", args=(21,)).job["id"]
        broker.join("commit", timeout=30_000)
        _wait(lambda: service.get(job_id)["status"] == "succeeded")
    finally:
        log.close()
    assert service.result(job_id) == {"answer": 42}
    ours = [t for t in log.transactions() if any(job_id in c for c in t)]
    assert len(ours) == 1, ours  # the start is made alone (the thread waits for its answer)
    commands = [c.split(" ", 1)[0].upper() for c in ours[0]]
    assert commands == ["EVALSHA", "DELETE", "LPUSH", "PEXPIRE"] or commands == [
        "EVALSHA", "DEL", "LPUSH", "PEXPIRE"], ours[0]
    move, result_key = ours[0][0], ours[0][1].split(" ")[1].strip('"')
    assert " succeed " in move and job_id in move
    assert "__acks__" in move, "the move's script also acknowledges the message"
    assert job_id in result_key
    # Nothing else wrote the result: it was stored once, in that transaction.
    lpushes = [c for c in log.commands if c["command"].upper().startswith("LPUSH")
               and job_id in c["command"]]
    assert len(lpushes) == 1, lpushes


def test_a_result_handed_over_as_the_committer_closes_is_stored_before_the_ack(
        worker_and_service: tuple[Any, JobService]) -> None:
    """Shutdown between the result hook and the ack: the result, the move and the ack are
    then made one after the other by the consumer, and none is lost."""
    broker, service = worker_and_service
    broker.add_middleware(_CloseCommitterLast(), before=type(broker.middleware[0]))
    job_id = service.submit("answer", kind="commit-test", args=(5,)).job["id"]
    broker.join("commit", timeout=30_000)
    _wait(lambda: service.get(job_id)["status"] == "succeeded")
    assert broker.committer.closed
    assert service.result(job_id) == {"answer": 10}
    assert service.get(job_id)["has_result"]
    later = service.submit("answer", kind="commit-test", args=(6,)).job["id"]
    broker.join("commit", timeout=30_000)
    _wait(lambda: service.get(later)["status"] == "succeeded")
    assert service.result(later) == {"answer": 12}


class _CloseCommitterLast(dramatiq.Middleware):
    """First in the list, so its "after" hook runs last: after the result was handed over."""

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        assert getattr(message, "_repertory_result", None) is not None
        broker.committer.close(timeout_s=10)


def _wait(predicate: Any, polls: int = 600) -> None:
    """Polls every 50 ms up to 30 s: a bound on how long to look, not on the machine."""
    import time

    for _ in range(polls):
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("the condition never held")
