"""GPU discovery for the launcher and worker heartbeats.

``discover_devices()`` runs the probe in a child Python process by default, so the launcher
never initialises CUDA before it forks workers (a CUDA context does not survive a fork). Inside
a worker, after the fork, ``device_report()`` describes the device it uses. Without torch or
without CUDA both return "no GPU" quietly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


def probe() -> list[dict[str, Any]]:
    """Query torch for CUDA devices in this process (initialises CUDA when there is one)."""
    try:
        import torch
    except ImportError:
        return []
    out: list[dict[str, Any]] = []
    if not torch.cuda.is_available():
        return out
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        free, total = torch.cuda.mem_get_info(i)
        out.append({
            "index": i, "name": props.name, "total_bytes": int(total),
            "free_bytes": int(free), "capability": f"{props.major}.{props.minor}",
        })
    return out


@dataclass(frozen=True)
class GpuDevice:
    index: int
    name: str
    total_bytes: int
    free_bytes: int
    capability: str

    def env(self) -> dict[str, str]:
        """Environment for a worker process pinned to this device."""
        return {"CUDA_VISIBLE_DEVICES": str(self.index)}


def discover_devices(*, in_subprocess: bool = True, timeout_s: float = 60.0) -> list[GpuDevice]:
    """CUDA devices and their memory; [] without torch, without CUDA, or if the probe fails."""
    if not in_subprocess:
        return [GpuDevice(**d) for d in probe()]
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pools.gpu"], cwd=root, env=env,
            capture_output=True, text=True, timeout=timeout_s, check=True,
        )
    except (subprocess.SubprocessError, OSError):
        return []
    raw = _last_json_line(done.stdout)
    return [GpuDevice(**d) for d in raw]


def _last_json_line(stdout: str) -> list[dict[str, Any]]:
    for line in reversed(stdout.strip().splitlines()):
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(data, list):
            return data
    return []


def device_report(model_id: str | None = None) -> dict[str, Any]:
    """For heartbeats: the device this process computes on, its memory in use, the model."""
    torch = sys.modules.get("torch")
    report: dict[str, Any] = {"device": "cpu", "model": model_id}
    if torch is None or not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return report
    i = torch.cuda.current_device()
    free, total = torch.cuda.mem_get_info(i)
    report.update(
        device=f"cuda:{i}",
        device_name=torch.cuda.get_device_name(i),
        memory_total_bytes=int(total),
        memory_used_bytes=int(total - free),
        memory_allocated_bytes=int(torch.cuda.memory_allocated(i)),
    )
    return report


def describe(devices: list[GpuDevice]) -> str:
    """One line for the launcher's log."""
    if not devices:
        return "no CUDA device found: the gpu pool runs one CPU process"
    parts = [f"{d.index}: {d.name} ({d.total_bytes / 2**30:.0f} GiB)" for d in devices]
    return f"{len(devices)} CUDA device(s): " + "; ".join(parts)


def as_dicts(devices: list[GpuDevice]) -> list[dict[str, Any]]:
    return [asdict(d) for d in devices]


if __name__ == "__main__":
    print(json.dumps(probe()))
