"""Commands that talk to a running API: ``repertory solve``, ``repertory scrape`` …"""

from __future__ import annotations

import argparse
from pathlib import Path

from config.settings import get_settings
from repertory_cli.client import ApiError, Client
from repertory_cli.registry import command


def _api_url() -> str:
    api = get_settings().api
    return f"http://{api.host}:{api.port}"


def _solve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="a benchmark .txt or a JSON roster problem")
    p.add_argument("--time-limit", type=float, default=None)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--api", default=None, help="API base URL (default: from settings)")


@command("solve", "submit a roster problem and wait, showing progress", _solve_args)
def cmd_solve(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    client = Client(ns.api or _api_url())
    data = ns.file.read_bytes()
    params = {k: v for k, v in {"time_limit_s": ns.time_limit, "workers": ns.workers}.items()
              if v is not None}
    is_json = ns.file.suffix == ".json"
    try:
        if is_json:
            import json

            options = {"time_limit_s": ns.time_limit, "workers": ns.workers}
            body = {"problem": json.loads(data),
                    "options": {k: v for k, v in options.items() if v is not None}}
            accepted = client.post("/v1/solve", json=body)
        else:
            accepted = client.post("/v1/solve", content=data, params=params,
                                   headers={"content-type": "text/plain"})
        job_id = accepted["job_id"]
        with console.status(f"job {job_id} queued") as status:
            def show(job: dict) -> None:
                p = job.get("progress") or {}
                text = f"job {job_id[:8]} {job['status']}"
                if p.get("objective") is not None:
                    gap = p.get("gap")
                    text += (f"  objective {p['objective']}  bound {p.get('best_bound'):.0f}"
                             f"  gap {gap:.1%}" if gap is not None else "")
                    text += f"  {p.get('elapsed_s', 0):.1f}s"
                status.update(text)

            job = client.wait(job_id, show)
        if job["status"] not in ("succeeded", "cancelled"):
            console.print(f"[red]{job['status']}[/]: {job.get('error')}")
            return 1
        result = client.get(f"/v1/jobs/{job_id}/result")["result"]
    except ApiError as exc:
        console.print(f"[red]{exc}[/]")
        return 1
    table = Table(title=f"roster {ns.file.name}")
    for column in ("status", "objective", "best bound", "gap", "wall s"):
        table.add_column(column)
    gap = result.get("gap")
    table.add_row(result["status"], str(result.get("objective")),
                  f"{result.get('best_bound') or 0:.0f}",
                  f"{gap:.2%}" if gap is not None else "-", f"{result['wall_time_s']:.1f}")
    console.print(table)
    if result.get("conflicts"):
        console.print("conflicting constraint groups: " + "; ".join(result["conflicts"]))
    return 0

