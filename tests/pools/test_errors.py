from __future__ import annotations

import logging

import dramatiq
import pytest

from config.settings import Settings
from pools.broker import build_broker
from pools.errors import PermanentError, TransientError


def test_typed_errors_are_logged_as_one_warning_line_and_bugs_keep_their_traceback(
        redis_url: str, redis_client: object, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    broker = build_broker(Settings(), set_global=False)

    @dramatiq.actor(broker=broker, queue_name="errlog", max_retries=0)
    def outage() -> None:
        raise TransientError("upstream busy")

    @dramatiq.actor(broker=broker, queue_name="errlog", max_retries=0)
    def bad_input() -> None:
        raise PermanentError("no such shift type X")

    @dramatiq.actor(broker=broker, queue_name="errlog", max_retries=0)
    def bug() -> None:
        raise ValueError("a bug")

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        with caplog.at_level(logging.INFO, logger="dramatiq.worker.WorkerThread"):
            for actor in (outage, bad_input, bug):
                actor.send()
            broker.join("errlog", timeout=30_000)
            worker.join()
    finally:
        worker.stop()
    failed = [r for r in caplog.records if r.name == "dramatiq.worker.WorkerThread"]
    assert len(failed) == 3, [r.getMessage() for r in failed]
    by_text = {("upstream busy" in r.getMessage(), "no such shift" in r.getMessage()): r
               for r in failed}
    transient, permanent = by_text[True, False], by_text[False, True]
    for record, kind in ((transient, "TransientError (transient)"),
                         (permanent, "PermanentError (permanent)")):
        assert record.levelname == "WARNING" and record.exc_info is None
        assert kind in record.getMessage() and "\n" not in record.getMessage()
    bug_record = by_text[False, False]
    assert bug_record.levelname == "ERROR" and bug_record.exc_info is not None
