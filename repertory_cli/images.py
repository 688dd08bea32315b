"""``repertory images add`` and ``repertory search``."""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from repertory_cli.client import ApiError, Client
from repertory_cli.registry import command

SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".zip"}


def _api(ns: argparse.Namespace) -> Client:
    from repertory_cli.client_commands import _api_url

    return Client(ns.api or _api_url(), timeout=120)


def _files(targets: list[str]) -> list[Path]:
    out: list[Path] = []
    for target in map(Path, targets):
        if target.is_dir():
            out += sorted(p for p in target.rglob("*") if p.suffix.lower() in SUFFIXES)
        elif target.is_file():
            out.append(target)
    return out


def _add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["add"])
    p.add_argument("targets", nargs="+", help="image files, zips or directories")
    p.add_argument("--metadata", action="append", default=[], metavar="K=V")
    p.add_argument("--product-id", default=None)
    p.add_argument("--parallel", type=int, default=8, help="uploads in flight")
    p.add_argument("--api", default=None)


@command("images", "upload images in parallel, then wait for indexing", _add_args)
def cmd_images(ns: argparse.Namespace) -> int:
    import json

    from rich.console import Console
    from rich.progress import Progress

    console, client = Console(), _api(ns)
    files = _files(ns.targets)
    if not files:
        console.print("[red]no image files found[/]")
        return 1
    meta = json.dumps(dict(kv.split("=", 1) for kv in ns.metadata))
    failures: list[tuple[str, str]] = []
    image_ids: list[str] = []

    def upload(path: Path) -> list[str]:
        form = {"metadata": meta, **({"product_id": ns.product_id} if ns.product_id else {})}
        body = client.post("/v1/images", data=form,
                           files=[("files", (path.name, path.read_bytes()))])
        return [i["image_id"] for i in body["images"]]

    with Progress(console=console) as progress:
        sent = progress.add_task("uploading", total=len(files))
        with ThreadPoolExecutor(ns.parallel) as pool:
            futures = {pool.submit(upload, f): f for f in files}
            for future in as_completed(futures):
                try:
                    image_ids += future.result()
                except ApiError as exc:
                    failures.append((futures[future].name, str(exc)))
                progress.advance(sent)
        indexed = progress.add_task("indexing", total=len(image_ids))
        pending = set(image_ids)
        while pending:
            for image_id in list(pending):
                status = client.get(f"/v1/images/{image_id}")["status"]
                if status in ("indexed", "failed"):
                    pending.discard(image_id)
                    progress.advance(indexed)
            time.sleep(0.5) if pending else None
    console.print(f"{len(image_ids)} images indexed, {len(failures)} files refused")
    for name, error in failures:
        console.print(f"  [red]{name}[/]: {error}")
    return 1 if failures else 0


def _search_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--api", default=None)


@command("search", "search images by text and print a table", _search_args)
def cmd_search(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    try:
        hits = _api(ns).get("/v1/search", params={"q": ns.query, "limit": ns.limit})["hits"]
    except ApiError as exc:
        console.print(f"[red]{exc}[/]")
        return 1
    table = Table(title=f"“{ns.query}”")
    for column in ("score", "image", "product", "name"):
        table.add_column(column)
    for hit in hits:
        table.add_row(f"{hit['score']:.3f}", hit["image_id"], hit.get("product_id") or "",
                      hit.get("name") or "")
    console.print(table)
    return 0
