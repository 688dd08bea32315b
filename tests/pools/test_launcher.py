"""Pool definitions and the commands the launcher runs."""

from __future__ import annotations

import logging

import pytest

from config.settings import Settings
from pools.launcher import worker_children


def test_each_pool_runs_dramatiq_on_its_own_queues(monkeypatch):
    monkeypatch.setenv("REPERTORY_POOLS__CPU__PROCESSES", "3")
    monkeypatch.setenv("REPERTORY_POOLS__CPU__THREADS", "6")
    children = worker_children(Settings(), "cpu")
    assert len(children) == 3
    argv = children[0].argv
    assert argv[1:4] == ["-m", "dramatiq", "actors"]
    assert argv[argv.index("--threads") + 1] == "6"
    assert argv[argv.index("--processes") + 1] == "1"
    queues = argv[argv.index("--queues") + 1: argv.index("--worker-shutdown-timeout")]
    assert {"solve", "scrape", "notify"} <= set(queues)
    assert children[0].env["REPERTORY_POOLS__CURRENT"] == "cpu"
    assert children[0].env["dramatiq_queue_prefetch"] == "12"


def _has_gpu() -> bool:
    from pools.gpu import discover_devices

    return bool(discover_devices())


@pytest.mark.skipif(_has_gpu(), reason="this machine has a GPU")
def test_without_a_gpu_the_gpu_pool_runs_one_cpu_process_and_says_so(caplog):
    with caplog.at_level(logging.WARNING, logger="repertory.launcher"):
        children = worker_children(Settings(), "gpu")
    assert len(children) == 1
    assert "CUDA_VISIBLE_DEVICES" not in children[0].env
    assert "no CUDA device" in caplog.text
    argv = children[0].argv
    queues = argv[argv.index("--queues") + 1:argv.index("--worker-shutdown-timeout")]
    assert queues == ["gpu-query", "gpu"]


def test_an_unknown_pool_is_refused_with_the_known_ones():
    with pytest.raises(KeyError, match="known pools: cpu, solve, scrape, gpu, index"):
        worker_children(Settings(), "tpu")
