"""Vector search latency (p50/p99) and upsert rate per backend and collection size.

Index vectors are random unit vectors (dimension 512, like ViT-B-32). Three query kinds:
``vector`` (a ready query vector: the index alone), ``text`` (ViT-B-32 text encoder on CPU +
search) and ``image`` (JPEG decode + image encoder + search), the last two through the same
dynamic batcher the workers use. Edge runs ``optimize()`` (HNSW build) after loading; its time
is reported.

    .venv/bin/python bench/search.py                                  # edge 20k+100k, local 20k
    .venv/bin/python bench/search.py --backends local --local-sizes 20000,100000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from actors.index.collections import PAYLOAD_INDEXES  # noqa: E402
from actors.index.factory import open_store  # noqa: E402
from actors.index.store import PointRecord  # noqa: E402
from config.qdrant import QdrantSettings  # noqa: E402

DIM = 512


def unit_vectors(n: int, seed: int):  # type: ignore[no-untyped-def]
    import numpy as np

    v = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))]


def load(store, name: str, n: int, batch: int) -> float:  # type: ignore[no-untyped-def]
    vectors = unit_vectors(n, 1)
    started = time.perf_counter()
    for start in range(0, n, batch):
        chunk = vectors[start : start + batch]
        points = [
            PointRecord(str(uuid.UUID(int=start + i + 1)), chunk[i],
                        {"product_id": f"p{(start + i) % 100}", "created_ts": float(start + i)})
            for i in range(len(chunk))
        ]
        store.upsert(name, points)
    return n / (time.perf_counter() - started)


def timed_queries(fn, queries) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t) * 1000)
    return out


def bench_backend(backend: str, n: int, args, embedder) -> dict:  # type: ignore[no-untyped-def,type-arg]
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(QdrantSettings(mode=backend, path=Path(tmp)))
        name = f"bench__{DIM}"
        store.ensure_collection(name, DIM, PAYLOAD_INDEXES)
        rate = load(store, name, n, args.upsert_batch)
        t = time.perf_counter()
        store.optimize(name)
        optimize_s = time.perf_counter() - t
        row = {"backend": backend, "points": n, "upserts_per_s": round(rate, 1),
               "optimize_s": round(optimize_s, 2)}
        search = lambda v: store.search(name, v, 10)  # noqa: E731
        queries = unit_vectors(args.queries, 2)
        search(queries[0])
        row["vector"] = _summary(timed_queries(search, queries))
        filt = lambda v: store.search(name, v, 10, {"product_id": "p7"})  # noqa: E731
        row["vector_filtered"] = _summary(timed_queries(filt, queries[: args.queries // 2]))
        if embedder is not None:
            texts = [f"a photo of product {i}" for i in range(args.model_queries)]
            row["text"] = _summary(timed_queries(
                lambda s: search(embedder.embed_texts([s])[0]), texts))
            row["image"] = _summary(timed_queries(
                lambda j: search(embedder.embed_images([j])[0]), args.jpegs))
        store.close()
    return row


def _summary(ms: list[float]) -> dict:  # type: ignore[type-arg]
    return {"p50_ms": round(pct(ms, 0.5), 3), "p99_ms": round(pct(ms, 0.99), 3), "n": len(ms)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--backends", default="edge,local")
    p.add_argument("--edge-sizes", default="20000,100000")
    p.add_argument("--local-sizes", default="20000")
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--model-queries", type=int, default=30)
    p.add_argument("--upsert-batch", type=int, default=256)
    p.add_argument("--model", default="ViT-B-32", help="query encoder ('' to skip)")
    p.add_argument("--out", default=str(ROOT / "bench/results/search.json"))
    args = p.parse_args()
    embedder = None
    if args.model:
        from actors.embed.embedder import Embedder
        from actors.embed.model import load_clip
        from bench.embed import make_jpegs
        from config.clip import ClipSettings

        settings = ClipSettings(model_name=args.model, max_batch=32, max_wait_ms=1)
        embedder = Embedder(load_clip(settings), settings)
        args.jpegs = make_jpegs(args.model_queries, (640, 480))
    rows = []
    sizes = {"edge": args.edge_sizes, "local": args.local_sizes, "server": args.edge_sizes}
    for backend in args.backends.split(","):
        for n in [int(s) for s in sizes[backend].split(",")]:
            row = bench_backend(backend, n, args, embedder)
            rows.append(row)
            extra = "".join(
                f"  {k} p50 {row[k]['p50_ms']:.2f} p99 {row[k]['p99_ms']:.2f}"
                for k in ("vector", "vector_filtered", "text", "image") if k in row
            )
            print(f"{backend:5} {n:>7} pts  upsert {row['upserts_per_s']:>9.1f}/s  "
                  f"optimize {row['optimize_s']:.1f}s{extra}", flush=True)
    if embedder is not None:
        embedder.close()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"dim": DIM, "rows": rows}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
