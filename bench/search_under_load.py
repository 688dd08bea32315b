"""Search while bulk indexing waits: text searches sent right after 2,000 images were queued.

    .venv/bin/python bench/search_under_load.py --images 2000 --searches 10

Real processes (embedded Valkey, API, gpu pool with the tiny open_clip model on CPU, index
pool with Qdrant Edge). One zip upload queues ``--images`` distinct small PNGs (32 per job);
then ``--searches`` text searches are sent one after another while that work waits, and each
one's latency is recorded, with how many images were still waiting at the time. Prints a table
and writes ``bench/results/search_under_load.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from stack_support import Stack, wait_until  # noqa: E402

from pools.embedded import EmbeddedValkey  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def _zip(count: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for i in range(count):
            png = io.BytesIO()
            Image.new("RGB", (48, 40), (i % 251, (i * 7) % 253, (i * 13) % 255)).save(png, "PNG")
            archive.writestr(f"img-{i:05d}.png", png.getvalue())
    return out.getvalue()


def _waiting(stack: Stack) -> int:
    queues = {q["queue"]: q for q in stack.http.get("/v1/queues").json()}
    return (queues["gpu"]["ready"] + queues["gpu"]["in_flight"]) * 32


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--searches", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        valkey = EmbeddedValkey(Path(tmp) / "valkey")
        valkey.start()
        stack = Stack(valkey.url, Path(tmp), REPERTORY_CLIP__MODEL_NAME="tiny-clip",
                      REPERTORY_QDRANT__MODE="edge", REPERTORY_CLIP__IMAGES__IMAGES_PER_JOB="32",
                      REPERTORY_API__RPC_TIMEOUT_S="30")
        try:
            stack.start_api()
            stack.start_pool("index", processes=1, threads=2)
            stack.start_pool("gpu", processes=1, threads=16)
            stack.http.get("/v1/search", params={"q": "warm up"})
            body = _zip(args.images)
            upload = stack.http.post("/v1/images", files=[("files", ("bulk.zip", body,
                                                                      "application/zip"))])
            assert upload.status_code == 202, upload.text
            batch = upload.json()["job_id"]
            rows = []
            for i in range(args.searches):
                waiting = _waiting(stack)
                started = time.perf_counter()
                answer = stack.http.get("/v1/search", params={"q": f"a red square {i}"})
                rows.append({"search": i, "status": answer.status_code,
                             "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                             "images_waiting": waiting})
                print(rows[-1], flush=True)
            wait_until(lambda: stack.job(batch)["status"] in ("succeeded", "failed"), 900,
                       interval=1, what="the bulk upload to finish")
        finally:
            stack.close()
            valkey.stop()
    out = {"machine": platform.platform(), "args": vars(args), "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "search_under_load.json").write_text(json.dumps(out, indent=2))
    latencies = sorted(r["latency_ms"] for r in rows)
    print(f"\n| searches | images waiting at the first | p50 ms | max ms | statuses |\n"
          f"|---|---|---|---|---|\n| {len(rows)} | {rows[0]['images_waiting']} | "
          f"{latencies[len(latencies) // 2]} | {latencies[-1]} | "
          f"{sorted({r['status'] for r in rows})} |")


if __name__ == "__main__":
    main()
