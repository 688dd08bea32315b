"""Embedding throughput: model-only vs end to end (upload → searchable), batch-size sweep.

Model-only: ``encode_images`` on ready tensors. End to end, in the same run and at the same
batch size: validate + store the upload in the blob store, then worker threads each take a
message of images, read the blobs, decode (CPU: in the worker thread; CUDA: nvjpeg inside the
batch), go through the dynamic batcher and the model, and upsert into Qdrant Edge.

    .venv/bin/python bench/embed.py                       # tiny-clip and ViT-B-32, CPU
    .venv/bin/python bench/embed.py --models ViT-B-32 --batches 32,256,1024 --images 8192
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actors.embed.blobs import BlobStore  # noqa: E402
from actors.embed.decode import decode_cpu  # noqa: E402
from actors.embed.embedder import Embedder  # noqa: E402
from actors.embed.images import validate_image  # noqa: E402
from actors.embed.model import load_clip  # noqa: E402
from actors.index.collections import ImageDoc, ImageIndex  # noqa: E402
from actors.index.edge import EdgeStore  # noqa: E402
from config.clip import ClipSettings, ImageSettings  # noqa: E402


def make_jpegs(n: int, size: tuple[int, int], distinct: int = 64) -> list[bytes]:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    base = []
    for _ in range(min(n, distinct)):
        small = rng.integers(0, 256, size=(size[1] // 16, size[0] // 16, 3), dtype=np.uint8)
        im = Image.fromarray(small).resize(size, Image.Resampling.BILINEAR)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90)
        base.append(buf.getvalue())
    # distinct content per image (a different comment) so every upload is its own blob/point
    return [base[i % len(base)][:2] + _com(i) + base[i % len(base)][2:] for i in range(n)]


def _com(i: int) -> bytes:
    body = f"bench {i}".encode()
    return b"\xff\xfe" + (len(body) + 2).to_bytes(2, "big") + body


def _sync(model) -> None:  # type: ignore[no-untyped-def]
    import torch

    if model.device.type == "cuda":
        torch.cuda.synchronize()


def model_only(model, pixels, batch: int, seconds: float) -> float:  # type: ignore[no-untyped-def]
    import torch

    x = torch.stack(pixels[:batch]).to(model.device)
    model.encode_images(x)  # warm-up
    _sync(model)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds or done == 0:
        model.encode_images(x)
        done += batch
    _sync(model)
    return done / (time.perf_counter() - started)


def end_to_end(model, settings: ClipSettings, jpegs: list[bytes], batch: int,
               threads: int, per_message: int) -> tuple[float, dict]:  # type: ignore[type-arg]
    limits = ImageSettings()
    with tempfile.TemporaryDirectory() as tmp:
        blobs, store = BlobStore(Path(tmp) / "blobs"), EdgeStore(Path(tmp) / "qdrant")
        index = ImageIndex(store, model_id=model.model_id, dim=model.dim, upsert_batch=256)
        index.ensure()
        cfg = settings.model_copy(update={"max_batch": batch})
        embedder = Embedder(model, cfg)
        embedder.embed_images(jpegs[:batch])  # warm-up
        lock = threading.Lock()
        started = time.perf_counter()
        keys = []
        for data in jpegs:  # the upload: validate and store
            validate_image(data, limits)
            keys.append(blobs.put(data).key)
        messages = [keys[i : i + per_message] for i in range(0, len(keys), per_message)]

        def handle(msg: list[str]) -> int:
            vectors = embedder.embed_images([blobs.get(k) for k in msg])
            docs = [ImageDoc(blob_key=k, product_id="bench") for k in msg]
            with lock:  # one writer into the embedded store
                index.upsert(docs, vectors)
            return len(msg)

        with ThreadPoolExecutor(threads) as pool:
            done = sum(pool.map(handle, messages))
        rate = done / (time.perf_counter() - started)
        sizes = list(embedder.batcher.batch_sizes)
        embedder.close()
        assert index.count() == len(jpegs), "every image must be searchable"
        store.close()
    return rate, {"mean_batch": sum(sizes) / max(1, len(sizes))}


def run(args: argparse.Namespace) -> list[dict]:  # type: ignore[type-arg]
    rows = []
    for name in args.models.split(","):
        settings = ClipSettings(model_name=name, device=args.device, max_wait_ms=args.wait_ms)
        model = load_clip(settings)
        for batch in [int(b) for b in args.batches.split(",")]:
            n = max(args.images, 2 * batch)
            if name == "tiny-clip":
                n = max(n, args.tiny_images)
            jpegs = make_jpegs(n, (640, 480))
            pixels = [decode_cpu(j, model.spec) for j in jpegs[: batch]]
            threads = max(1, min(args.threads, batch))
            per_msg = max(1, (2 * batch) // threads) if batch > 1 else 1
            rounds = []
            for _ in range(args.repeats):  # interleaved pairs: both halves see the same load
                mo = model_only(model, pixels, batch, args.seconds)
                e2e, extra = end_to_end(model, settings, jpegs, batch, threads, per_msg)
                rounds.append({"model_only_ips": round(mo, 1), "end_to_end_ips": round(e2e, 1),
                               "ratio": round(e2e / mo, 3), **extra})
            by_ratio = sorted(rounds, key=lambda r: r["ratio"])
            ratios, mid = [r["ratio"] for r in by_ratio], by_ratio[len(by_ratio) // 2]
            rows.append({
                "model": name, "device": str(model.device), "dtype": str(model.dtype),
                "batch": batch, "images": n, "threads": threads, "per_message": per_msg,
                **mid, "ratio_min": ratios[0], "ratio_max": ratios[-1], "rounds": rounds,
            })
            r = rows[-1]
            print(f"{name:10} {r['device']:5} b={batch:<5} model {r['model_only_ips']:9.1f} img/s"
                  f"   e2e {r['end_to_end_ips']:9.1f} img/s   {r['ratio']:.0%} (median of "
                  f"{len(rounds)}: {ratios[0]:.0%}-{ratios[-1]:.0%})   "
                  f"mean batch {r['mean_batch']:.1f}", flush=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--models", default="tiny-clip,ViT-B-32")
    p.add_argument("--batches", default="1,8,32")
    p.add_argument("--images", type=int, default=96, help="images per end-to-end run (min)")
    p.add_argument("--tiny-images", type=int, default=512)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--wait-ms", type=float, default=5.0)
    p.add_argument("--seconds", type=float, default=3.0, help="model-only timing window")
    p.add_argument("--device", default="auto")
    p.add_argument("--repeats", type=int, default=1,
                   help="interleaved model-only / end-to-end pairs; the median pair is kept")
    p.add_argument("--out", default=str(ROOT / "bench/results/embed.json"))
    args = p.parse_args()
    import torch

    rows = run(args)
    meta = {"torch": torch.__version__, "threads": torch.get_num_threads(),
            "machine": platform.machine(), "cpus": __import__("os").cpu_count(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
