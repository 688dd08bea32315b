"""repertory as its users drive it: ``POST /v1/diag {"mode": "ok"}`` to the real API (uvicorn)
from 32 concurrent clients (aiohttp), the real ``cpu`` pool (``repertory worker --pool cpu``).

The diag actor is the product's: the start of a job is its record's ``started_at`` (set by the
job-state middleware just before the actor), its end the record's ``finished_at``. A diag run
also writes its own bookkeeping (``repertory:diag:<id>``; the 10 ms sleep reports progress and
checks for a cancel each step), which the bench tasks of the other systems do not.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.queue.common import Adapter, Batch
from config.queues import PREFIX, job_index_key
from pools.embedded import free_port
from pools.jobs import JobStore

#: uvicorn worker processes of the API (``run.py --api-workers``).
API_WORKERS_ENV = "BENCH_API_WORKERS"
BODIES = {"noop": {"mode": "ok"}, "sleep": {"mode": "sleep", "seconds": 0.01}}


class RepertoryApiAdapter(Adapter):
    name = "repertory-api"
    db = 1
    clients = 32

    def shape(self) -> str:
        return (f"cpu pool {self.processes} proc × {self.threads} thr; "
                f"API {os.environ.get(API_WORKERS_ENV, '1')} proc")

    def start(self) -> None:
        self.port = free_port()
        var = Path(self.log_dir) / "repertory-var"
        env = {"REDIS_URL": self.url, "REPERTORY_VAR_DIR": str(var), "HF_HUB_OFFLINE": "1"}
        workers = os.environ.get(API_WORKERS_ENV, "1")
        self.spawn("api", [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app",
                           "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log",
                           *(["--workers", workers] if workers != "1" else [])],
                   worker=False, **env)
        self.base = f"http://127.0.0.1:{self.port}"
        # One keep-alive connection from the standard library for single submissions (a
        # fraction of httpx's client-side CPU, which would count in the start latency).
        self.http = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        deadline = time.monotonic() + 60
        while not self._up():
            self.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError("the API did not answer /healthz in 60 s")
            time.sleep(0.1)
        self.spawn("pool", [sys.executable, "-m", "repertory_cli.main", "worker", "--pool", "cpu"],
                   REPERTORY_POOLS__CPU__PROCESSES=str(self.processes),
                   REPERTORY_POOLS__CPU__THREADS=str(self.threads), **env)
        self.store = JobStore(self.redis)

    def _request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        headers = {"content-type": "application/json"} if body is not None else {}
        try:
            self.http.request(method, path, body=body, headers=headers)
            response = self.http.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.http.close()  # reconnects on the next request
            raise

    def _up(self) -> bool:
        try:
            return self._request("GET", "/healthz")[0] == 200
        except (OSError, http.client.HTTPException):
            return False

    def submit(self, kind: str, tag: str) -> str:
        status, data = self._request("POST", "/v1/diag", json.dumps(BODIES[kind]).encode())
        if status != 202:
            raise RuntimeError(f"POST /v1/diag answered {status}: {data[:200]!r}")
        return json.loads(data)["job_id"]

    def submit_many(self, kind: str, tags: Sequence[str]) -> Batch:
        """``clients`` concurrent HTTP clients (aiohttp on one uvloop event loop: httpx
        spent twice the API's CPU per request and, on 2 cores, set the pace itself), each
        sending its next request as soon as the last one is answered (the API's capacity)."""
        import uvloop

        return uvloop.run(self._submit_many(kind, len(tags)))

    def submit_paced(self, kind: str, tags: Sequence[str], rate: float) -> Batch:
        """The same clients at a steady ``rate`` requests/s in all: request ``i`` is due at
        ``i / rate`` s, sent by the next free client, and its latency counts from when it was
        due, not from when it went out (so a server that falls behind shows its backlog in
        the latency: no coordinated omission)."""
        import uvloop

        return uvloop.run(self._submit_many(kind, len(tags), rate))

    async def _submit_many(self, kind: str, count: int, rate: float = 0.0) -> Batch:
        import aiohttp

        handles: list[str] = []
        lat: list[float] = []
        self.submit_errors = []
        todo = iter(range(count))
        body = json.dumps(BODIES[kind]).encode()
        headers = {"content-type": "application/json"}
        clock = time.perf_counter
        connector = aiohttp.TCPConnector(limit=self.clients)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(self.base, connector=connector,
                                         timeout=timeout) as session:
            async def connect() -> None:
                async with session.get("/healthz") as response:
                    await response.read()

            if rate:  # every client's connection open before the first request is due
                await asyncio.gather(*(connect() for _ in range(self.clients)))

            async def one_client() -> None:
                for i in todo:
                    t0 = clock()
                    if rate:
                        t0 = started + i / rate
                        if (ahead := t0 - clock()) > 0:
                            await asyncio.sleep(ahead)
                    try:
                        async with session.post("/v1/diag", data=body,
                                                headers=headers) as response:
                            response.raise_for_status()
                            job_id = (await response.json())["job_id"]
                    except (aiohttp.ClientError, TimeoutError) as exc:
                        # Counted, not retried: it may have been accepted.
                        self.submit_errors.append(f"{type(exc).__name__}: {exc}"[:200])
                        if len(self.submit_errors) > max(10, count // 100):
                            raise
                        continue
                    lat.append(clock() - t0)
                    handles.append(job_id)

            started = clock()
            await asyncio.gather(*(one_client() for _ in range(self.clients)))
            return Batch(handles, clock() - started, lat)

    def wait_next(self, handle: str, timeout_s: float) -> None:
        # diag appends its pid to this list when it runs (right after the start transition).
        if self.redis.blpop([f"{PREFIX}:diag:{handle}"], timeout=timeout_s) is None:
            raise TimeoutError(f"{self.name}: job {handle} did not start in {timeout_s}s")

    def done_count(self) -> int:
        return int(self.redis.zcard(job_index_key(kind="diag", status="succeeded")))

    def outcomes(self, handles: Sequence[str]) -> dict[str, tuple[float, float]]:
        found = {}
        for i in range(0, len(handles), 1000):
            for record in self.store.get_many(handles[i:i + 1000]):
                if record.get("started_at"):  # a latency probe may still be finishing
                    start = float(record["started_at"])
                    found[record["id"]] = (start, float(record.get("finished_at") or start))
        return found

    def extra(self) -> dict[str, object]:
        from bench.queue import procs

        return {"api_rss_mib": round(procs.rss_kib(procs.tree(p.pid for p in self.others))
                                     / 1024, 1)}

    def close(self) -> None:
        if getattr(self, "http", None) is not None:
            self.http.close()
        super().close()
