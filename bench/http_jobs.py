"""HTTP jobs in flight at once: N jobs against a local server that answers after D seconds.

    .venv/bin/python bench/http_jobs.py --jobs 1000 --delay 2

Real processes: an embedded Valkey, the API (uvicorn), one worker process of the network-bound
``scrape`` pool (``--threads`` Dramatiq threads; calls wait on its event loop, not on threads),
and a local asyncio HTTP server in this process whose ``/slow`` path answers after ``--delay``
seconds. The jobs are submitted through ``POST /v1/http`` (32 requests at a time); the clock
runs from the first submit to the last job's ``succeeded``. Also recorded: the most requests
the server held at once, the worker's peak thread count and its CPU time. Prints a table and
writes ``bench/results/http_jobs.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from http_site import HttpSite  # noqa: E402
from stack_support import Stack  # noqa: E402

from config import queues as q  # noqa: E402
from pools.embedded import EmbeddedValkey  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def _proc_status(pid: int) -> dict[str, int]:
    fields = dict(line.split(":", 1) for line in
                  Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return {"threads": int(fields["Threads"]), "rss_mb": int(fields["VmRSS"].split()[0]) // 1024,
            "cpu_s": (int(stat[11]) + int(stat[12])) / ticks}


async def _submit_all(base: str, url: str, jobs: int, concurrency: int,
                      timeout_s: float = 90.0) -> list[str]:
    import httpx

    ids: list[str] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(jobs):
        queue.put_nowait(i)

    async def submitter(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            queue.get_nowait()
            answer = await client.post("/v1/http", json={"url": url, "timeout_s": timeout_s,
                                                         "max_retries": 0})
            answer.raise_for_status()
            ids.append(answer.json()["job_id"])

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await asyncio.gather(*(submitter(client) for _ in range(concurrency)))
    return ids


def _watch(pid: int, stop: threading.Event, peak: dict[str, int]) -> None:
    while not stop.wait(0.2):
        try:
            peak["threads"] = max(peak.get("threads", 0), _proc_status(pid)["threads"])
        except OSError:
            return


def run(args: argparse.Namespace) -> dict:
    import redis

    with tempfile.TemporaryDirectory() as tmp, HttpSite("127.0.0.1") as site:
        valkey = EmbeddedValkey(Path(tmp) / "valkey")
        valkey.start()
        stack = Stack(valkey.url, Path(tmp), REPERTORY_HTTP__ALLOWED_NETWORKS='["127.0.0.1/32"]',
                      REPERTORY_SCRAPE__EXTRACT_WORKERS="1")
        try:
            stack.start_api()
            stack.start_pool("scrape", processes=1, threads=args.threads)
            (worker,) = stack.workers("scrape")
            pid = worker["pid"]
            client = redis.Redis.from_url(stack.redis_url)
            done_key = q.job_index_key(kind="http", status="succeeded")
            failed_keys = [q.job_index_key(kind="http", status=s) for s in ("failed", "dead")]
            before, peak, stop = _proc_status(pid), {}, threading.Event()
            watcher = threading.Thread(target=_watch, args=(pid, stop, peak), daemon=True)
            watcher.start()
            started = time.perf_counter()
            ids = asyncio.run(_submit_all(f"http://127.0.0.1:{stack.port}",
                                          site.url(f"/slow?delay={args.delay}"), args.jobs, 32,
                                          args.timeout))
            submitted = time.perf_counter() - started
            while client.zcard(done_key) + sum(client.zcard(k) for k in failed_keys) < len(ids):
                time.sleep(0.05)
            wall = time.perf_counter() - started
            stop.set()
            after = _proc_status(pid)
            failed = sum(client.zcard(k) for k in failed_keys)
        finally:
            stack.close()
            valkey.stop()
    return {"jobs": args.jobs, "delay_s": args.delay, "threads": args.threads,
            "wall_s": round(wall, 2), "submit_s": round(submitted, 2),
            "jobs_per_s": round(args.jobs / wall, 1), "failed": failed,
            "most_in_flight": site.most_held, "worker_peak_threads": peak.get("threads"),
            "worker_cpu_s": round(after["cpu_s"] - before["cpu_s"], 2),
            "worker_rss_mb": after["rss_mb"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=2.0, help="server answer delay (s)")
    parser.add_argument("--threads", type=int, default=8, help="Dramatiq threads")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=90.0, help="each job's timeout_s")
    parser.add_argument("--out", default="http_jobs.json", help="file under bench/results")
    args = parser.parse_args()
    rows = []
    for round_no in range(1, args.rounds + 1):
        rows.append({"round": round_no, **run(args)})
        print(rows[-1], flush=True)
    header = ("round", "jobs", "wall_s", "submit_s", "jobs_per_s", "most_in_flight",
              "worker_peak_threads", "worker_cpu_s", "failed")
    print("\n" + " | ".join(header))
    for row in rows:
        print(" | ".join(str(row[h]) for h in header))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"bench": "http_jobs", "command": " ".join(sys.argv), "cpus": os.cpu_count(),
           "machine": platform.platform(), "python": platform.python_version(),
           "load_avg": os.getloadavg(), "rows": rows}
    (RESULTS / args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS / args.out}")


if __name__ == "__main__":
    main()
