"""GPU discovery: [] without CUDA (quietly), real devices with it."""

from __future__ import annotations

import pytest

from pools.gpu import GpuDevice, describe, device_report, discover_devices


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def test_without_cuda_discovery_finds_nothing_and_says_the_pool_runs_on_cpu() -> None:
    if _has_cuda():
        pytest.skip("this machine has CUDA")
    assert discover_devices() == []
    assert discover_devices(in_subprocess=False) == []
    assert "one CPU process" in describe([])
    assert device_report("tiny-clip-random") == {"device": "cpu", "model": "tiny-clip-random"}


def test_a_device_pins_its_worker_with_cuda_visible_devices() -> None:
    device = GpuDevice(index=3, name="H100", total_bytes=80 * 2**30, free_bytes=0,
                       capability="9.0")
    assert device.env() == {"CUDA_VISIBLE_DEVICES": "3"}
    assert "3: H100 (80 GiB)" in describe([device])


@pytest.mark.gpu
def test_with_cuda_every_device_is_listed_with_its_memory() -> None:
    if not _has_cuda():
        pytest.skip("needs CUDA")
    import torch

    devices = discover_devices()
    assert len(devices) == torch.cuda.device_count() > 0
    assert all(d.total_bytes > d.free_bytes > 0 for d in devices)
