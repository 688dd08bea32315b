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



def _scrape_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("targets", nargs="+", help="domains, URLs, or a file with one per line")
    p.add_argument("--max-pages", type=int, default=5)
    p.add_argument("--refresh", action="store_true")
    p.add_argument("--api", default=None, help="API base URL (default: from settings)")


def _read_targets(targets: list[str]) -> list[str]:
    out: list[str] = []
    for target in targets:
        path = Path(target)
        if path.is_file():
            out += [line.strip() for line in path.read_text().splitlines()
                    if line.strip() and not line.startswith("#")]
        else:
            out.append(target)
    return out


@command("scrape", "scrape company data from domains and show progress", _scrape_args)
def cmd_scrape(ns: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    console = Console()
    client = Client(ns.api or _api_url())
    body = {"domains": _read_targets(ns.targets), "max_pages_per_domain": ns.max_pages,
            "refresh": ns.refresh}
    try:
        batch_id = client.post("/v1/scrape", json=body)["job_id"]
        with Progress(console=console) as progress:
            task = progress.add_task("scraping", total=None)

            def show(job: dict) -> None:
                kids = job.get("children") or {}
                progress.update(task, total=kids.get("total"), completed=kids.get("done", 0),
                                description=f"scraping ({kids.get('blocked', 0)} blocked)")

            client.wait(batch_id, show)
        rows = client.get(f"/v1/jobs/{batch_id}/result")["result"]
    except ApiError as exc:
        console.print(f"[red]{exc}[/]")
        return 1
    table = Table(title=f"batch {batch_id}")
    for column in ("domain", "status", "name", "emails", "phones", "note"):
        table.add_column(column)
    for row in rows:
        record = (row.get("result") or {}).get("record") or {}
        name = (record.get("name") or {}).get("value", "")
        emails = ", ".join(e["value"] for e in record.get("emails", [])[:3])
        phones = ", ".join(p["value"] for p in record.get("phones", [])[:3])
        note = (row.get("error") or {}).get("type", "")
        table.add_row((row.get("summary") or {}).get("domain", ""), row["status"], name,
                      emails, phones, note)
    console.print(table)
    return 0
