"""Job path vs peers: repertory (through its API, and its actors with job records), raw
Dramatiq, Celery (threads, prefork), RQ, taskiq and Huey on one Valkey, at matched concurrency.

    .venv-bench/bin/python bench/queue/run.py                 # everything, 3 rounds
    .venv-bench/bin/python bench/queue/run.py --systems dramatiq,repertory-actors --rounds 1

One embedded Valkey on loopback serves every system (each its own database, flushed before and
after each trial). Rounds interleave the systems (A B C … A B C); each trial runs in a process
of its own under a hard timeout (``trial.py`` lists its phases), and whatever it leaves behind
is killed. Prints a markdown table of medians over rounds; ratios are taken inside a round.
Writes ``bench/results/queue.json`` and ``docs/img/queue-bench.png``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[0] = str(ROOT)  # not bench/queue: its modules must not shadow anything

from bench.queue import machine, procs, report  # noqa: E402
from bench.queue.trial import SYSTEMS  # noqa: E402
from pools.embedded import EmbeddedValkey  # noqa: E402

CONFIGS = {"1x8": (1, 8), "2x8": (2, 8)}
OUT_JSON = ROOT / "bench" / "results" / "queue.json"
OUT_PNG = ROOT / "docs" / "img" / "queue-bench.png"


def trial_argv(args: argparse.Namespace, system: str, processes: int, threads: int,
               url: str, log_dir: Path) -> list[str]:
    fraction = {"rq": args.rq_fraction, "repertory-api": args.api_fraction}.get(system, 1.0)
    return [sys.executable, "-m", "bench.queue.trial", "--system", system,
            "--processes", str(processes), "--threads", str(threads), "--url", url,
            "--noop", str(args.noop), "--sleep", str(args.sleep), "--seq", str(args.seq),
            "--idle", str(args.idle), "--idle-gap", str(args.idle_gap),
            "--paced", str(args.paced), "--paced-rate", str(args.paced_rate),
            "--fraction", str(fraction), "--log-dir", str(log_dir),
            *(["--profile", str(args.profile)] if args.profile else [])]


def run_trial(args: argparse.Namespace, system: str, config: str, url: str, server_pid: int,
              log_dir: Path) -> dict[str, Any]:
    processes, threads = CONFIGS[config]
    mark = uuid.uuid4().hex
    env = {**os.environ, procs.MARK_ENV: mark, "PYTHONPATH": str(ROOT),
           "BENCH_API_WORKERS": str(args.api_workers)}
    busy0, ours0 = machine.busy_s(), _ours_s(server_pid)
    started = time.monotonic()
    proc = subprocess.Popen(trial_argv(args, system, processes, threads, url, log_dir),
                            cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=open(log_dir / f"trial-{system}-{config}.log", "ab"),  # noqa: SIM115
                            start_new_session=True, text=True)
    try:
        out, _ = proc.communicate(timeout=args.trial_timeout)
        result = _parse(out) or {"error": f"no result (exit {proc.returncode})"}
    except subprocess.TimeoutExpired:
        procs.send(procs.tree([proc.pid]), procs.signal.SIGKILL)
        proc.wait()
        result = {"error": f"trial killed after {args.trial_timeout:.0f} s"}
    except BaseException:  # Ctrl-C or SIGTERM: take the trial and its workers down too
        procs.send(procs.tree([proc.pid]), procs.signal.SIGKILL)
        procs.kill_marked(mark)
        raise
    stragglers = procs.kill_marked(mark)
    elapsed = time.monotonic() - started
    foreign = (machine.busy_s() - busy0) - (_ours_s(server_pid) - ours0)
    result.update(system=system, config=config, wall_s=round(elapsed, 1),
                  foreign_cpu_share=round(max(0.0, foreign) / (elapsed * os.cpu_count()), 3))
    if stragglers:
        result["stragglers_killed"] = len(stragglers)
    return result


def _ours_s(server_pid: int) -> float:
    """CPU of this process, its reaped children (trials and what they waited for), Valkey."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
            + procs.cpu_s([server_pid]))


def code_state() -> dict[str, Any]:
    """Which product code was measured: HEAD, and the files changed on top of it."""
    def git(*argv: str) -> str:
        try:
            return subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True,
                                  timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            return ""

    paths = ["pools", "api", "actors", "config", "repertory_cli", "bench/queue"]
    changed = sorted(line[3:] for line in
                     git("status", "--porcelain", "-uall", "--", *paths).splitlines())
    digest = hashlib.sha1()  # of the changed files' contents, untracked ones included
    for name in changed:
        path = ROOT / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b""))
    return {"head": git("rev-parse", "HEAD").strip(), "changed_since_head": changed,
            "changed_sha1": digest.hexdigest() if changed else None}


def _parse(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", default=",".join(SYSTEMS),
                        help=f"comma-separated subset of: {', '.join(SYSTEMS)}")
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help="comma-separated: 1x8 (1 process × 8 threads), 2x8")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--noop", type=int, default=2000, help="no-op jobs per drain")
    parser.add_argument("--sleep", type=int, default=500, help="10 ms jobs per drain")
    parser.add_argument("--seq", type=int, default=500, help="busy-idle latency probes")
    parser.add_argument("--idle", type=int, default=5, help="probes after --idle-gap of idle")
    parser.add_argument("--idle-gap", type=float, default=1.0)
    parser.add_argument("--paced", type=int, default=4000,
                        help="API only: no-op submissions at a steady --paced-rate (0: none)")
    parser.add_argument("--paced-rate", type=float, default=2000.0,
                        help="requests/s in all from the 32 clients (issue #13's target rate)")
    parser.add_argument("--rq-fraction", type=float, default=0.25,
                        help="RQ drains this fraction of --noop/--sleep (it forks per job)")
    parser.add_argument("--api-fraction", type=float, default=1.0,
                        help="repertory-api drains this fraction of --noop/--sleep")
    parser.add_argument("--api-workers", type=int, default=1,
                        help="uvicorn processes of the API (uvicorn --workers)")
    parser.add_argument("--trial-timeout", type=float, default=300.0)
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="MINUTES",
                        help="first wait (up to this long) for other busy processes to end")
    parser.add_argument("--log-dir", type=Path, default=Path(tempfile.gettempdir())
                        / "bench-queue-logs", help="a dated folder of logs goes here")
    parser.add_argument("--gate", type=float, default=0.0, metavar="SECONDS",
                        help="before each trial, wait up to this long for other processes "
                             "to stop using the CPU")
    parser.add_argument("--redo", type=int, default=0,
                        help="run a trial again (up to this many times) when more than "
                             "--redo-above of the machine's CPU went to other processes; "
                             "the last attempt is kept")
    parser.add_argument("--redo-above", type=float, default=0.25)
    parser.add_argument("--out", type=Path, default=OUT_JSON)
    parser.add_argument("--plot", type=Path, default=OUT_PNG)
    parser.add_argument("--no-save", action="store_true", help="print only; write nothing")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="instead of measuring: one trial per system and config with "
                             "py-spy on the workers (and the API) during the no-op drain; "
                             "stacks go to DIR, a summary to stdout")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-ups below
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [s for s in systems if s not in SYSTEMS] + [c for c in configs if c not in CONFIGS]
    if unknown:
        parser.error(f"unknown: {', '.join(unknown)}")

    def say(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    if args.profile:
        args.profile = args.profile.resolve()
        args.profile.mkdir(parents=True, exist_ok=True)
        args.rounds, args.no_save = 1, True

    before = (machine.wait_quiet(args.wait_quiet * 60, say=say) if args.wait_quiet
              else machine.snapshot())
    say(f"machine before: load {before['loadavg']}, busy others: {before['busy'][:3]}")
    started_at = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    code = code_state()
    started = time.monotonic()
    trials: list[dict[str, Any]] = []
    discarded: list[dict[str, Any]] = []  # noisy attempts run again
    log_dir = args.log_dir / time.strftime("%Y%m%d-%H%M%S")
    log_dir.mkdir(parents=True)
    say(f"worker, API and trial logs: {log_dir}")
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        valkey = EmbeddedValkey(Path(tmp) / "valkey")
        url = valkey.start()
        try:
            server_pid = int(valkey._proc.pid)  # type: ignore[union-attr]
            for rnd in range(args.rounds):
                order = systems[rnd % len(systems):] + systems[:rnd % len(systems)]
                for config in configs:
                    for system in order:
                        for attempt in range(1 + args.redo):
                            if args.gate:
                                machine.wait_idle(args.gate, say=say)
                            result = run_trial(args, system, config, url, server_pid, log_dir)
                            result.update(round=rnd, attempt=attempt)
                            say(report.progress_line(result))
                            if result["foreign_cpu_share"] <= args.redo_above:
                                break
                            if attempt < args.redo:
                                discarded.append(result)
                                say(f"  {result['foreign_cpu_share']:.0%} of the CPU went "
                                    f"to other processes: running it again")
                        trials.append(result)
        finally:
            valkey.stop()
            if any("error" in t for t in trials):
                say(f"errors: see the logs under {log_dir}")
    summary = report.summarise(trials, systems, configs)
    data = {
        "command": " ".join([Path(sys.executable).relative_to(ROOT).as_posix()
                             if Path(sys.executable).is_relative_to(ROOT) else sys.executable,
                             *[Path(sys.argv[0]).resolve().relative_to(ROOT).as_posix()],
                             *sys.argv[1:]]),
        "date": started_at, "wall_s": round(time.monotonic() - started),
        "machine": {"arch": platform.machine(), "cpus": os.cpu_count(),
                    "python": platform.python_version(), "before": before,
                    "after": machine.snapshot()},
        "versions": report.versions(), "code": code,
        "code_changed_during_run": code_state() != code,
        "params": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "summary": summary, "trials": trials, "discarded_noisy_trials": discarded,
    }
    foreign = sorted(t["foreign_cpu_share"] for t in trials)
    quiet = {"foreign_cpu_share_median": foreign[len(foreign) // 2] if foreign else None,
             "foreign_cpu_share_max": foreign[-1] if foreign else None,
             "trials_over_redo_above": sum(f > args.redo_above for f in foreign),
             "redone": sum(t.get("attempt", 0) for t in trials)}
    data["quiet"] = quiet
    table = report.table(summary, systems, configs)
    if foreign:
        table += (f"\n- other processes' share of the machine's CPU during a trial: median "
                  f"{quiet['foreign_cpu_share_median']:.0%}, max "
                  f"{quiet['foreign_cpu_share_max']:.0%} ({quiet['trials_over_redo_above']} of "
                  f"{len(foreign)} trials over {args.redo_above:.0%}; {quiet['redone']} rerun)")
    print(table)
    if args.profile:
        from bench.queue import profile

        for path in sorted(args.profile.glob("*.txt")):
            print(f"\n{profile.render(path.name, profile.summarise(profile.load(path)))}")
    if not args.no_save:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(data, indent=1) + "\n")
        report.plot(summary, systems, configs, args.plot, subtitle=f"{data['date']}, "
                    f"{os.cpu_count()} cores, medians of {args.rounds} rounds")
        say(f"wrote {args.out} and {args.plot}")


if __name__ == "__main__":
    main()
