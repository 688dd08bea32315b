"""One trial: one system at one concurrency, every phase, in a process of its own.

    python -m bench.queue.trial --system dramatiq --processes 1 --threads 8 --url redis://…/0

``run.py`` starts this with a hard timeout and kills whatever it leaves behind. Phases:

1. boot + warm-up: start the workers, run 2·P·T no-op and P·T sleep jobs, wait for the worker
   processes to go quiet (< 0.25 core over 0.5 s);
2. busy-idle latency: ``--seq`` no-op jobs one at a time, each sent as soon as the previous
   one ran (start − client send time), after 5 such jobs not counted;
3. idle latency: ``--idle`` no-op jobs, each sent after ``--idle-gap`` s with nothing to do;
4. no-op drain: workers paused (SIGSTOP), ``--noop`` jobs submitted by one client thread
   (the enqueue rate), workers resumed (SIGCONT): jobs ÷ (last end − resume);
   (the API only, ``--paced``) the no-op drain again, its jobs submitted at a steady
   ``--paced-rate`` by the same 32 clients: the submit latency at that load, each counted from
   when its request was due;
5. the same with ``--sleep`` 10 ms jobs; worker RSS after each drain.

The last line of stdout is ``RESULT <json>``.
"""

from __future__ import annotations

import argparse
import collections
import importlib
import json
import signal
import subprocess
import time
import traceback
from pathlib import Path
from typing import Any

from bench.queue import procs
from bench.queue.common import BIN, Adapter, pct

SYSTEMS: dict[str, str] = {
    "repertory-api": "bench.queue.sys_repertory_api:RepertoryApiAdapter",
    "repertory-actors": "bench.queue.sys_repertory_actors:RepertoryActorsAdapter",
    "dramatiq": "bench.queue.sys_dramatiq:DramatiqAdapter",
    "celery-threads": "bench.queue.sys_celery:CeleryThreadsAdapter",
    "celery-prefork": "bench.queue.sys_celery:CeleryPreforkAdapter",
    "rq": "bench.queue.sys_rq:RqAdapter",
    "taskiq": "bench.queue.sys_taskiq:TaskiqAdapter",
    "huey": "bench.queue.sys_huey:HueyAdapter",
}


def load(system: str) -> type[Adapter]:
    module, _, cls = SYSTEMS[system].partition(":")
    return getattr(importlib.import_module(module), cls)


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


def wait_count(adapter: Adapter, base: int, n: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    next_check = 0.0
    while (done := adapter.done_count() - base) < n:
        now = time.monotonic()
        if now > deadline:
            raise TimeoutError(f"{done} of {n} jobs done after {timeout_s:.0f} s")
        if now > next_check:
            adapter.check_alive()
            next_check = now + 1.0
        time.sleep(0.05)


def warm_up(adapter: Adapter, started: float, timeout_s: float) -> dict[str, Any]:
    """``started``: monotonic time before the workers were spawned."""
    slots = adapter.processes * adapter.threads
    base = adapter.done_count()
    adapter.submit_many("noop", [f"w{i}" for i in range(2 * slots)])
    adapter.submit_many("sleep", [f"ws{i}" for i in range(slots)])
    wait_count(adapter, base, 3 * slots, timeout_s)
    ready = time.monotonic() - started
    load = procs.wait_quiet([p.pid for p in adapter.workers])
    adapter.reset()
    return {"spawn_to_warm_s": round(ready, 2), "load_after_warm_cores": round(load, 2)}


def latency(adapter: Adapter, n: int, gap_s: float, prefix: str,
            discard: int = 0) -> dict[str, Any]:
    """``discard`` probes first, not counted: a worker that just sat idle polls slowly."""
    sent: dict[str, float] = {}
    for i in range(-discard, n):
        if gap_s:
            time.sleep(gap_s)
        t_send = time.time()
        handle = adapter.submit("noop", f"{prefix}{i}" if i >= 0 else f"{prefix}x{-i}")
        adapter.wait_next(handle, timeout_s=max(10.0, 5 * gap_s))
        if i >= 0:
            sent[handle] = t_send
    ran = adapter.outcomes(list(sent))
    lat = [ran[h][0] - t for h, t in sent.items() if h in ran]
    adapter.reset()
    return {"n": len(lat), "p50_ms": ms(pct(lat, 0.5)), "p99_ms": ms(pct(lat, 0.99)),
            "max_ms": ms(max(lat, default=None)), "samples_ms": [ms(v) for v in lat]
            if n <= 20 else None}


class Spy:
    """``py-spy record`` on a process tree for the length of a ``with`` block (collapsed
    stacks, non-idle samples only); a no-op without an output path."""

    def __init__(self, pid: int | None, out: Path | None) -> None:
        self.argv = None if pid is None or out is None else [
            str(BIN / "py-spy"), "record", "--pid", str(pid), "--subprocesses", "--nonblocking",
            "--rate", "200", "--format", "raw", "--nolineno", "--gil",
            "--output", str(out)]

    def __enter__(self) -> Spy:
        if self.argv:
            self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            time.sleep(1.0)  # attached and sampling
        return self

    def __exit__(self, *exc: object) -> None:
        if self.argv:
            self.proc.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def redis_calls(adapter: Adapter) -> collections.Counter[str]:
    """Commands the server has run, by name (those run inside Lua scripts included)."""
    stats = adapter.redis.info("commandstats")
    return collections.Counter({k.removeprefix("cmdstat_"): int(v["calls"])
                                for k, v in stats.items()})


def per_job(before: collections.Counter[str], after: collections.Counter[str],
            n: int) -> dict[str, Any]:
    delta = after - before
    delta.pop("info", None)  # our own reads of the counters
    return {"all": round(sum(delta.values()) / n, 2),
            "top": {k: round(v / n, 2) for k, v in delta.most_common(8)}}


def cpu_ms_per_job(before: float, after: float, n: int) -> float:
    return round((after - before) * 1000 / n, 3)


def drain(adapter: Adapter, kind: str, n: int, timeout_s: float, server_pid: int,
          profile: Path | None = None, rate: float = 0.0) -> dict[str, Any]:
    """CPU per job: the client and the rest (the API) while submitting, the worker trees and
    the Redis server while draining, from /proc (so it holds whatever else runs).
    ``rate``: submit at that steady rate (``submit_paced``) instead of back to back.
    ``profile``: a folder for py-spy's collapsed stacks of the API while submitting and of
    the workers while draining (timings then include py-spy's own load)."""
    adapter.reset()
    base = adapter.done_count()
    others = procs.tree(p.pid for p in adapter.others)
    adapter.pause()
    try:
        with Spy(adapter.others[0].pid if adapter.others else None,
                 profile and profile / f"{adapter.name}-api-{kind}.txt"):
            cpu0 = (time.process_time(), procs.cpu_s(others), procs.cpu_s([server_pid]))
            calls0 = redis_calls(adapter)
            tags = [f"{kind[0]}{'p' if rate else ''}{i}" for i in range(n)]
            batch = (adapter.submit_paced(kind, tags, rate) if rate
                     else adapter.submit_many(kind, tags))
            calls1 = redis_calls(adapter)
            cpu1 = (time.process_time(), procs.cpu_s(others), procs.cpu_s([server_pid]))
    finally:
        spy = Spy(adapter.workers[0].pid, profile and profile / f"{adapter.name}-workers-"
                  f"{kind}-{adapter.processes}x{adapter.threads}.txt").__enter__()
        resumed = time.time()
        adapter.resume()
    workers = adapter.worker_pids()
    work0 = (procs.cpu_s(workers), procs.cpu_s([server_pid]))
    if adapter.submit_errors:  # lost submissions: wait for the accepted ones only
        n = len(batch.handles)
    out: dict[str, Any] = {
        "n": n, "submit_errors": adapter.submit_errors[:5] or None,
        "submit_error_count": len(adapter.submit_errors),
        "enqueue_s": round(batch.elapsed_s, 3),
        "enqueue_per_s": round(n / batch.elapsed_s, 1),
        "submit_p50_ms": ms(pct(batch.submit_s, 0.5)),
        "submit_p99_ms": ms(pct(batch.submit_s, 0.99)),
        "enqueue_cpu_ms_per_job": {
            "client": cpu_ms_per_job(cpu0[0], cpu1[0], n),
            "api": cpu_ms_per_job(cpu0[1], cpu1[1], n) if others else None,
            "redis": cpu_ms_per_job(cpu0[2], cpu1[2], n)},
        "enqueue_redis_cmds_per_job": per_job(calls0, calls1, n)}
    try:
        wait_count(adapter, base, n, timeout_s)
    except TimeoutError as exc:
        done = adapter.done_count() - base
        out.update(error=str(exc), done=done,
                   drain_per_s=round(done / (time.time() - resumed), 1))
        return out
    finally:
        spy.__exit__()
    workers = adapter.worker_pids()
    out["drain_redis_cmds_per_job"] = per_job(calls1, redis_calls(adapter), n)
    out["drain_cpu_ms_per_job"] = {"workers": cpu_ms_per_job(work0[0], procs.cpu_s(workers), n),
                                   "redis": cpu_ms_per_job(work0[1], procs.cpu_s([server_pid]),
                                                           n)}
    ran = adapter.outcomes(batch.handles)
    last_end = max(end for _, end in ran.values())
    out.update(done=len(ran), drain_s=round(last_end - resumed, 3),
               drain_per_s=round(n / (last_end - resumed), 1),
               first_start_ms=ms(min(s for s, _ in ran.values()) - resumed))
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    adapter = load(args.system)(args.url, args.processes, args.threads, log_dir)
    result: dict[str, Any] = {"system": args.system, "processes": args.processes,
                              "threads": args.threads, "shape": adapter.shape()}
    def scaled(n: int) -> int:
        return max(50, round(n * args.fraction))

    adapter.redis.flushdb()
    server = int(adapter.redis.info("server")["process_id"])
    phase = "start"
    try:
        spawned = time.monotonic()
        adapter.start()
        result["commands"] = adapter.command()
        phase = "warm-up"
        result["warm"] = warm_up(adapter, spawned, args.boot_timeout)
        phase = "latency"
        result["busy_latency"] = latency(adapter, args.seq, 0.0, "b", discard=5)
        result["idle_latency"] = latency(adapter, args.idle, args.idle_gap, "i")
        phase = "no-op drain"
        result["noop"] = drain(adapter, "noop", scaled(args.noop), args.drain_timeout,
                               server, Path(args.profile) if args.profile else None)
        result["rss_mib_after_noop"] = round(procs.rss_kib(adapter.worker_pids()) / 1024, 1)
        if args.paced and hasattr(adapter, "submit_paced"):
            phase = "paced submissions"
            result["paced"] = drain(adapter, "noop", scaled(args.paced), args.drain_timeout,
                                    server, rate=args.paced_rate)
        result["worker_processes"] = len(adapter.worker_pids())
        phase = "sleep drain"
        result["sleep"] = drain(adapter, "sleep", scaled(args.sleep), args.drain_timeout,
                                server)
        result["rss_mib_after_sleep"] = round(procs.rss_kib(adapter.worker_pids()) / 1024, 1)
        result.update(adapter.extra())
    except Exception as exc:
        result["error"] = f"{phase}: {type(exc).__name__}: {exc}"
        traceback.print_exc()
    finally:
        stopping = time.monotonic()
        adapter.stop()
        result["stop_s"] = round(time.monotonic() - stopping, 2)
        try:
            adapter.redis.flushdb()
        finally:
            adapter.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--system", required=True, choices=sorted(SYSTEMS))
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--url", required=True, help="redis://host:port/<any db>")
    parser.add_argument("--noop", type=int, default=5000)
    parser.add_argument("--sleep", type=int, default=1000)
    parser.add_argument("--seq", type=int, default=500)
    parser.add_argument("--idle", type=int, default=5)
    parser.add_argument("--idle-gap", type=float, default=1.0)
    parser.add_argument("--paced", type=int, default=0,
                        help="no-op jobs submitted at --paced-rate (systems that can: the API)")
    parser.add_argument("--paced-rate", type=float, default=2000.0)
    parser.add_argument("--fraction", type=float, default=1.0,
                        help="run this fraction of --noop and --sleep (slow systems)")
    parser.add_argument("--boot-timeout", type=float, default=90.0)
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument("--log-dir", default="/tmp/bench-queue-logs")
    parser.add_argument("--profile", help="folder for py-spy stacks of the no-op drain")
    args = parser.parse_args()
    print("RESULT " + json.dumps(run(args)), flush=True)


if __name__ == "__main__":
    main()
