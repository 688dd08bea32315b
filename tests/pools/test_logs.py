"""Log lines: JSON or human, chosen by a setting; a worker's lines about a job carry the job."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dramatiq import Message
from stack_support import REPO, Stack, wait_until

from pools.logs import HumanFormatter, JobFields, JsonFormatter, bind_job, job_fields


def solve_message(retries: int = 0) -> Message:
    return Message(queue_name="solve.DQ", actor_name="solve_roster", args=(), kwargs={},
                   options={"job_kind": "solve", "retries": retries}, message_id="job-123")


@pytest.fixture()
def capture() -> Iterator[tuple[logging.Logger, io.StringIO, logging.Handler]]:
    """A logger of its own with one handler writing into a buffer (pytest's handlers stay)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(JobFields(pool="cpu"))
    logger = logging.getLogger("tests.logs")
    logger.propagate, logger.level = False, logging.DEBUG
    logger.addHandler(handler)
    try:
        yield logger, buffer, handler
    finally:
        logger.removeHandler(handler)
        bind_job(None)


def test_a_line_written_during_a_job_carries_the_job_and_the_worker(capture) -> None:
    logger, buffer, handler = capture
    handler.setFormatter(JsonFormatter())
    bind_job(job_fields(solve_message(retries=2)))
    logger.info("objective %d", 812, extra={"gap": 0.5})
    line = json.loads(buffer.getvalue())
    assert line["message"] == "objective 812" and line["level"] == "info"
    assert (line["job_id"], line["kind"], line["queue"], line["attempt"], line["actor"]) == (
        "job-123", "solve", "solve", 3, "solve_roster")
    assert (line["host"], line["pool"]) == (socket.gethostname(), "cpu")
    assert line["pid"] > 0 and line["worker"] == f"{line['host']}:{line['pid']}"
    assert line["gap"] == 0.5 and line["logger"] == "tests.logs"


def test_a_line_after_the_job_carries_no_job_and_a_traceback_stays_one_line(capture) -> None:
    logger, buffer, handler = capture
    handler.setFormatter(JsonFormatter())
    bind_job(job_fields(solve_message()))
    bind_job(None)
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("it failed")
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert "job_id" not in line and line["level"] == "error"
    assert "ValueError: boom" in line["exc_info"] and "Traceback" in line["exc_info"]


def test_the_human_format_names_the_job_and_its_attempt(capture) -> None:
    logger, buffer, handler = capture
    handler.setFormatter(HumanFormatter())
    bind_job(job_fields(solve_message(retries=1)))
    logger.warning("slow")
    bind_job(None)
    logger.warning("idle")
    during, after = buffer.getvalue().splitlines()
    assert during.endswith(f" WARNING tests.logs [{os.getpid()}] [job job-123 solve#2]: slow")
    assert after.endswith(f" WARNING tests.logs [{os.getpid()}]: idle")


def _log_in_a_process(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    script = "from config.settings import get_settings\nfrom pools.logs import configure\n" \
             "configure(get_settings())\nimport logging\n" + code
    return subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                          text=True, env={"PATH": "/usr/bin", "PYTHONPATH": str(REPO), **env},
                          timeout=60)


def test_the_format_setting_chooses_json_and_uvicorn_lines_go_through_it() -> None:
    done = _log_in_a_process(
        {"REPERTORY_LOGGING__FORMAT": "json", "REPERTORY_LOGGING__LEVEL": "warning"},
        "logging.getLogger('uvicorn.error').warning('Started server process')\n"
        "logging.getLogger('pools.x').info('below the level')\n"
        "logging.getLogger('httpx').warning('quiet loggers still warn')\n")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(x["logger"], x["message"]) for x in lines] == [
        ("uvicorn.error", "Started server process"), ("httpx", "quiet loggers still warn")]


def test_the_human_format_is_the_default() -> None:
    done = _log_in_a_process({}, "logging.getLogger('pools.x').info('hello')\n")
    assert done.returncode == 0, done.stderr
    line = done.stderr.rstrip()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO pools\.x \[\d+\]: hello",
                        line), line


# ------------------------------------------------------------------ a real worker, a real job


def json_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def test_a_job_run_by_a_worker_process_writes_json_lines_carrying_its_id(
        make_stack, tmp_path: Path) -> None:
    stack: Stack = make_stack(REPERTORY_LOGGING__FORMAT="json", REPERTORY_LOGGING__LEVEL="DEBUG")
    stack.start_api()
    stack.start_pool("cpu", processes=1, threads=2)
    job_id = stack.submit("/v1/diag", {"mode": "flaky", "failures": 1})["job_id"]
    stack.wait_status(job_id, "succeeded")
    pid = stack.runner_pid(job_id)
    log = tmp_path / "pool-cpu.log"
    ours = wait_until(lambda: [x for x in json_lines(log) if x.get("job_id") == job_id
                               and x["message"].startswith("diag run 2")], 10,
                      what="the second attempt's line in the worker log")
    lines = [x for x in json_lines(log) if x.get("job_id") == job_id]
    runs = {x["message"]: x for x in lines if x["logger"] == "actors.diag"}
    assert set(runs) == {"diag run 1, mode flaky", "diag run 2, mode flaky"}, ours
    for line in lines:
        assert (line["kind"], line["queue"], line["actor"]) == ("diag", "diag", "diag"), line
        assert (line["host"], line["pid"], line["pool"]) == (socket.gethostname(), pid, "cpu")
    assert runs["diag run 1, mode flaky"]["attempt"] == 1
    assert runs["diag run 2, mode flaky"]["attempt"] == 2
    # Dramatiq's own line about the failed first attempt carries the job too.
    failed = [x for x in lines if x["level"] == "warning" and x["attempt"] == 1]
    assert any("TransientError" in x["message"] for x in failed), lines
    # The supervisor writes JSON too; only Dramatiq's own main process (boot, signals) keeps
    # its format, and it writes nothing about jobs.
    assert any(x["logger"] == "repertory.launcher" for x in json_lines(log))
    others = [line for line in log.read_text().splitlines() if not line.startswith("{")]
    assert all("[dramatiq.MainProcess]" in line for line in others), others
    # The API: every line JSON, uvicorn's included; --no-access-log still holds.
    api = [json.loads(line) for line in (tmp_path / "api.log").read_text().splitlines()]
    assert any(x["logger"] == "uvicorn.error" for x in api)
    assert not any(x["logger"] == "uvicorn.access" for x in api)
