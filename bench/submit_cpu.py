"""CPU of an API process per accepted submission, with redis-py's Python command packer and
with hiredis's (``pools.aioredis``), interleaved in one process on one embedded Valkey.

    .venv/bin/python bench/submit_cpu.py [--jobs 4000] [--rounds 8] [--concurrency 32]

Each round submits ``--jobs`` diag jobs through ``JobService.asubmit`` (the record, its indexes
and the message in one script; ``pools.coalesce`` groups those in flight on the loop) from
``--concurrency`` tasks on one uvloop event loop, once with each packer in alternating order,
and reads this process's CPU time (``time.process_time``): the submit path without HTTP. The
server is flushed between arms. Prints a table; writes ``bench/results/submit_cpu.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "results" / "submit_cpu.json"


async def _submit(service, jobs: int, concurrency: int) -> None:  # noqa: ANN001
    todo = iter(range(jobs))

    async def one() -> None:
        for _ in todo:
            await service.asubmit("diag", kind="diag", kwargs={"mode": "ok"})

    await asyncio.gather(*(one() for _ in range(concurrency)))


def _arm(service, packer: str, jobs: int, concurrency: int) -> float:  # noqa: ANN001
    """CPU ms per submission with ``packer`` ("python" or "hiredis") on a fresh client."""
    import uvloop
    from redis.asyncio.connection import Connection

    from pools.aioredis import packed

    service._async_redis = None
    client = service.async_redis()  # made on this arm's loop
    client.connection_pool.connection_class = (packed(Connection) if packer == "hiredis"
                                               else Connection)
    service.broker.client.flushdb()
    before = time.process_time()
    uvloop.run(_submit(service, jobs, concurrency))
    return (time.process_time() - before) * 1000 / jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    from pools.embedded import EmbeddedValkey

    server = EmbeddedValkey(Path(tempfile.mkdtemp(prefix="submit-cpu-")))
    os.environ["REDIS_URL"] = server.start()
    try:
        import actors  # the product's broker and actors
        from config.settings import get_settings
        from pools.service import JobService

        service = JobService(get_settings(), actors.broker)
        _arm(service, "hiredis", 500, args.concurrency)  # warm-up, not counted
        runs: dict[str, list[float]] = {"python": [], "hiredis": []}
        for r in range(args.rounds):
            for packer in (("python", "hiredis") if r % 2 == 0 else ("hiredis", "python")):
                runs[packer].append(round(_arm(service, packer, args.jobs, args.concurrency), 4))
    finally:
        server.stop()
    med = {k: statistics.median(v) for k, v in runs.items()}
    ratios = [h / p for p, h in zip(runs["python"], runs["hiredis"], strict=True)]
    print("| packer | CPU ms per submission, median | min | max |\n|---|---|---|---|")
    for k, v in runs.items():
        print(f"| {k} | {med[k]:.3f} | {min(v):.3f} | {max(v):.3f} |")
    print(f"\nhiredis ÷ python, per round: median {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f}) over {args.rounds} rounds")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "command": " ".join(["bench/submit_cpu.py", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "params": {k: str(v) for k, v in vars(args).items()}, "cpu_ms_per_submission": runs,
        "median": med, "ratio_hiredis_over_python": ratios}, indent=1) + "\n")


if __name__ == "__main__":
    main()
