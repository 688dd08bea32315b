"""What happens to accepted jobs when things break: real processes on an embedded Valkey.

    .venv/bin/python bench/reliability.py                  # every scenario, 3 rounds
    .venv/bin/python bench/reliability.py --rounds 1 --only valkey-sigkill

Scenarios (each on a fresh Valkey, API and cpu pool):

* ``valkey-sigterm`` / ``valkey-sigkill``: ``--jobs`` diag jobs of ``--seconds`` each on
  1 process × 8 threads; once a third of them finished, Valkey is stopped with that signal
  and started again 3 s later on the same data.
* ``ctrl-c``: production-like settings (below); 4 jobs running longer than the 3 s grace
  when the pool gets SIGINT; started again 2 s later.
* ``kill-idle``: production-like settings (heartbeat timeout 10 s, default maintenance
  chance, heartbeat 5 s); one job of 1 s on one of two idle worker processes, which gets
  kill -9.

For each: jobs accepted, final, lost (not final 120 s after the fault), run more than once
(diag counts its runs), reported succeeded twice (the duration metric counts one per
"finished" hook), and the seconds from the end of the fault to the last job's final state.
Prints a table and writes ``bench/results/reliability.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from stack_support import Stack, wait_until  # noqa: E402

from pools.embedded import EmbeddedValkey  # noqa: E402

RESULTS = ROOT / "bench" / "results"
FINAL = {"succeeded", "failed", "dead", "cancelled"}
PRODUCTION = {"REPERTORY_REDIS__HEARTBEAT_TIMEOUT_MS": "10000",
              "REPERTORY_REDIS__MAINTENANCE_CHANCE": "1000",
              "REPERTORY_POOLS__HEARTBEAT_INTERVAL_S": "5"}


class Run:
    def __init__(self, tmp: Path, **env: str) -> None:
        self.valkey = EmbeddedValkey(tmp / "valkey")
        self.valkey.start()
        self.stack = Stack(self.valkey.url, tmp, **env)
        self.stack.start_api()
        self.client = redis.Redis.from_url(self.stack.redis_url)

    def submit(self, count: int, seconds: float) -> list[str]:
        return [self.stack.submit("/v1/diag", {"mode": "sleep", "seconds": seconds})["job_id"]
                for _ in range(count)]

    def restart_valkey(self, sig: int, down_s: float = 3.0) -> None:
        port, proc = self.valkey.port, self.valkey._proc
        proc.send_signal(sig)
        proc.wait(timeout=30)
        time.sleep(down_s)
        self.valkey = EmbeddedValkey(self.valkey.data_dir, port=port)
        self.valkey.start()

    def outcome(self, ids: list[str], fault_end: float, wait_s: float = 120) -> dict:
        deadline = time.monotonic() + wait_s
        statuses: dict[str, str] = {}
        while time.monotonic() < deadline:
            statuses = {i: self._status(i) for i in ids}
            if all(s in FINAL for s in statuses.values()):
                break
            time.sleep(0.2)
        recovered = time.monotonic() - fault_end
        runs = [self.client.llen(f"repertory:diag:{i}") for i in ids]
        reported = int(self.client.hget("repertory:metrics:durations",
                                        "diag|succeeded|+Inf") or 0)
        succeeded = sum(s == "succeeded" for s in statuses.values())
        return {"accepted": len(ids), "final": sum(s in FINAL for s in statuses.values()),
                "succeeded": succeeded, "lost": sum(s not in FINAL for s in statuses.values()),
                "run_twice": sum(r > 1 for r in runs),
                "reported_twice": max(0, reported - succeeded),
                "recovery_s": round(recovered, 2)}

    def _status(self, job_id: str) -> str:
        raw = self.client.hget(f"repertory:job:{job_id}", "status")
        return raw.decode() if raw else "missing"

    def close(self) -> None:
        self.stack.close()
        self.valkey.stop()


def valkey_restart(sig: int, jobs: int, seconds: float) -> Callable[[Path], dict]:
    def scenario(tmp: Path) -> dict:
        run = Run(tmp)
        try:
            run.stack.start_pool("cpu", processes=1, threads=8)
            ids = run.submit(jobs, seconds)
            wait_until(lambda: sum(run._status(i) == "succeeded" for i in ids) >= jobs // 3,
                       300, what="a third of the jobs")
            run.restart_valkey(sig)
            return run.outcome(ids, time.monotonic())
        finally:
            run.close()
    return scenario


def ctrl_c(tmp: Path) -> dict:
    run = Run(tmp, **PRODUCTION)
    try:
        pool = run.stack.start_pool("cpu", processes=1, threads=4)
        ids = run.submit(4, 8)
        for job_id in ids:
            run.stack.wait_status(job_id, "running", timeout=60)
        pool.send_signal(signal.SIGINT)
        pool.wait(timeout=60)
        run.stack.procs.pop("pool-cpu")
        time.sleep(2)
        restarted = time.monotonic()
        run.stack.start_pool("cpu", processes=1, threads=4)
        return run.outcome(ids, restarted)
    finally:
        run.close()


def kill_idle(tmp: Path) -> dict:
    run = Run(tmp, **PRODUCTION)
    try:
        run.stack.start_pool("cpu", processes=2, threads=1)
        (job_id,) = run.submit(1, 1)
        run.stack.wait_status(job_id, "running", timeout=60)
        victim = int(wait_until(lambda: run.client.lindex(f"repertory:diag:{job_id}", 0),
                                10, what="the worker pid"))
        os.kill(victim, signal.SIGKILL)
        return run.outcome([job_id], time.monotonic())
    finally:
        run.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=0.2)
    parser.add_argument("--only", default=None, help="one scenario name")
    args = parser.parse_args()
    scenarios = {"valkey-sigterm": valkey_restart(signal.SIGTERM, args.jobs, args.seconds),
                 "valkey-sigkill": valkey_restart(signal.SIGKILL, args.jobs, args.seconds),
                 "ctrl-c": ctrl_c, "kill-idle": kill_idle}
    if args.only:
        scenarios = {args.only: scenarios[args.only]}
    rows = []
    for round_no in range(args.rounds):
        for name, scenario in scenarios.items():
            with tempfile.TemporaryDirectory() as tmp:
                row = {"scenario": name, "round": round_no + 1, **scenario(Path(tmp))}
            rows.append(row)
            print(" | ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    out = {"machine": platform.platform(), "cpus": os.cpu_count(), "args": vars(args),
           "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "reliability.json").write_text(json.dumps(out, indent=2))
    print("\n| scenario | round | accepted | final | lost | run twice | reported twice "
          "| recovery s |\n|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['scenario']} | {r['round']} | {r['accepted']} | {r['final']} | {r['lost']} "
              f"| {r['run_twice']} | {r['reported_twice']} | {r['recovery_s']} |")


if __name__ == "__main__":
    main()
