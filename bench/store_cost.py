"""What a job's moves cost Redis and the worker: the job-state store on an embedded Valkey.

    .venv/bin/python bench/store_cost.py [--jobs 3000] [--runs 2] [--base REV]

For ``--jobs`` records: each one's ``start`` (as a worker thread makes it) and its ``succeed``
with the ack (as the committer sends it), one job at a time. Reports the server's CPU per move
(``INFO cpu`` before and after) and the client's (``time.process_time``), and the share of
the server's time spent inside the script's own Redis commands (``INFO commandstats``): the
rest is the Lua around them.

``--base REV`` measures the store of commit REV too (a temporary ``git worktree``), the two
interleaved ``--runs`` times, each in a fresh interpreter and a fresh Valkey: a ratio from one
run on one machine. Prints a table; writes ``bench/results/store_cost.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "store_cost.json"

PROBE = r"""
import json, sys, tempfile, time
from pathlib import Path
import redis
from pools.embedded import EmbeddedValkey
from pools.jobs import JobStore

n = int(sys.argv[1])
server = EmbeddedValkey(Path(tempfile.mkdtemp()))
server.start()
client = redis.Redis.from_url(server.url)
store = JobStore(client)
start = getattr(store, "move_own", store.move)
for i in range(n):
    store.create(f"j{i}", kind="bench-noop", queue="bench", actor="noop")

def server_cpu():
    info = client.info("cpu")
    return info["used_cpu_user"] + info["used_cpu_sys"]

out = {}
for name in ("start", "succeed"):
    client.config_resetstat()
    before, own = server_cpu(), time.process_time()
    for i in range(n):
        if name == "start":
            start(f"j{i}", "start", started_at=time.time(), error_type=None,
                  error_message=None, worker="bench:1")
        else:
            keys, args = store.move_args(f"j{i}", "succeed", has_result=1,
                                         finished_at=time.time(),
                                         ack=("bench.acks", "bench.msgs", f"m{i}"))
            client.evalsha(store.move_sha, len(keys), *keys, *args)
    client_us = 1e6 * (time.process_time() - own) / n
    server_us = 1e6 * (server_cpu() - before) / n
    stats = client.info("commandstats")
    script = stats["cmdstat_evalsha"]["usec"]
    inner = sum(s["usec"] for k, s in stats.items()
                if k not in ("cmdstat_evalsha", "cmdstat_info", "cmdstat_config|resetstat"))
    calls = sum(s["calls"] for k, s in stats.items()
                if k not in ("cmdstat_evalsha", "cmdstat_info", "cmdstat_config|resetstat"))
    out[name] = {"server_cpu_us": round(server_us, 1), "client_cpu_us": round(client_us, 1),
                 "script_us": round(script / n, 1), "commands_us": round(inner / n, 1),
                 "commands_per_move": round(calls / n, 2)}
server.stop()
print("RESULT " + json.dumps(out))
"""


def measure(tree: Path, jobs: int) -> dict[str, dict[str, float]]:
    done = subprocess.run([sys.executable, "-c", PROBE, str(jobs)], cwd=tree, check=True,
                          capture_output=True, text=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line.removeprefix("RESULT "))


def head(tree: Path) -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree, check=True,
                          capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--base", help="a commit to measure side by side")
    args = parser.parse_args()
    trees = {"current": ROOT}
    scratch = None
    if args.base:
        scratch = Path(tempfile.mkdtemp()) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(scratch), args.base],
                       cwd=ROOT, check=True, capture_output=True)
        trees = {"base": scratch, **trees}
    try:
        runs: dict[str, list[dict]] = {name: [] for name in trees}
        for _ in range(args.runs):
            for name, tree in trees.items():
                runs[name].append(measure(tree, args.jobs))
        report(trees, runs, args)
    finally:
        if scratch is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(scratch)], cwd=ROOT,
                           check=False, capture_output=True)


def report(trees: dict[str, Path], runs: dict[str, list[dict]], args: argparse.Namespace) -> None:
    rows = []
    print("| code | move | server CPU µs (median) | script µs | its commands µs | commands "
          "| client CPU µs |")
    print("|---|---|---|---|---|---|---|")
    for name, tree in trees.items():
        for move in ("start", "succeed"):
            got = {k: statistics.median(r[move][k] for r in runs[name])
                   for k in runs[name][0][move]}
            rows.append({"code": name, "commit": head(tree), "move": move, **got,
                         "runs": [r[move] for r in runs[name]]})
            print(f"| {name} {head(tree)} | {move} | {got['server_cpu_us']:.0f} | "
                  f"{got['script_us']:.0f} | {got['commands_us']:.0f} | "
                  f"{got['commands_per_move']:.1f} | {got['client_cpu_us']:.0f} |")
    OUT.write_text(json.dumps({"command": " ".join(sys.argv), "jobs": args.jobs,
                               "runs": args.runs, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
