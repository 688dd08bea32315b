"""How long a full garbage collection stops a process, before and after ``gc.freeze()``.

    .venv/bin/python bench/gc_pause.py          # table + bench/results/gc_pause.json

Each case runs in a fresh interpreter: it builds what the process builds at start (the API:
``create_app()``; a gpu worker: torch, open_clip and the tiny model; a cpu worker: OR-tools and
the solver), then times ``gc.collect()`` (best of 5) with everything still collectable, and
again after ``gc.collect(); gc.freeze()`` (what ``api.main.lifespan`` and the ``Resources``
middleware now do at boot). A full collection walks every tracked object while holding the
GIL: every thread of the process waits for it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "gc_pause.json"

CASES = {
    "api": "from api.main import create_app\nfrom config.settings import Settings\n"
           "app = create_app(Settings())",
    "gpu worker": "from actors.embed.model import load_clip\n"
                  "from config.clip import ClipSettings\n"
                  "model = load_clip(ClipSettings(model_name='tiny-clip', pretrained=None))",
    "cpu worker (solve)": "import actors.solve.search, actors.solve.construct\n"
                          "import ortools.sat.python.cp_model",
}

PROBE = """
import gc, json, time
{setup}
def pause():
    best = None
    for _ in range(5):
        t = time.perf_counter(); gc.collect(); d = time.perf_counter() - t
        best = d if best is None else min(best, d)
    return best * 1000
gc.collect()
objects = len(gc.get_objects())
before = pause()
gc.freeze()
print(json.dumps({{"objects": objects, "before_ms": before, "after_ms": pause()}}))
"""


def run(setup: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", PROBE.format(setup=setup)], cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    rows = {name: run(setup) for name, setup in CASES.items()}
    print("| process | tracked objects | full collection ms | after gc.freeze() ms |")
    print("|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['objects']:,} | {r['before_ms']:.1f} | {r['after_ms']:.2f} |")
    OUT.write_text(json.dumps({"python": platform.python_version(),
                               "load_before": os.getloadavg(), "rows": rows}, indent=2) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
