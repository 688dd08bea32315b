"""Summarise py-spy's collapsed stacks (``trial.py --profile``): where the samples went.

    .venv-bench/bin/python -m bench.queue.profile /tmp/prof/*.txt

Prints, per file: samples (py-spy ``--gil``: the thread holding the GIL), the share of samples
in each package (by the innermost frame that belongs to a known package), the top frames by
inclusive share (the frame is on the stack) and by self share (the frame is the leaf).
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

#: Innermost matching package wins; order matters only for overlapping prefixes.
PACKAGES = ("bench/", "pools/", "actors/", "api/", "config/", "dramatiq/", "periodiq",
            "redis/", "fastapi/", "starlette/", "uvicorn/", "pydantic", "anyio/", "httpx",
            "json/", "logging/", "threading", "queue", "socket", "selectors", "asyncio/")


def load(path: Path) -> collections.Counter[tuple[str, ...]]:
    stacks: collections.Counter[tuple[str, ...]] = collections.Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = tuple(f for f in stack.split(";") if not f.startswith("process "))
        stacks[frames] += int(count)
    return stacks


def package(frame: str) -> str | None:
    where = frame.rsplit("(", 1)[-1]
    return next((p.rstrip("/") for p in PACKAGES if where.startswith(p)), None)


def summarise(stacks: collections.Counter[tuple[str, ...]], top: int = 15) -> dict[str, object]:
    total = sum(stacks.values()) or 1
    inclusive: collections.Counter[str] = collections.Counter()
    leaf: collections.Counter[str] = collections.Counter()
    by_package: collections.Counter[str] = collections.Counter()
    for frames, count in stacks.items():
        for frame in set(frames):
            inclusive[frame] += count
        if frames:
            leaf[frames[-1]] += count
        owner = next((p for f in reversed(frames) if (p := package(f))), "other")
        by_package[owner] += count

    def share(counter: collections.Counter[str], n: int) -> list[tuple[str, float]]:
        return [(k, round(v / total, 3)) for k, v in counter.most_common(n)]

    return {"samples": total, "by_package": share(by_package, 12),
            "inclusive": share(inclusive, top), "self": share(leaf, top)}


def render(name: str, report: dict[str, object]) -> str:
    lines = [f"## {name}: {report['samples']} samples holding the GIL"]
    for title in ("by_package", "inclusive", "self"):
        lines.append(f"{title}:")
        lines += [f"  {value:6.1%}  {frame}" for frame, value in report[title]]  # type: ignore[attr-defined]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    for path in args.files:
        print(render(path.name, summarise(load(path), args.top)) + "\n")


if __name__ == "__main__":
    main()
