import threading
import time
from pathlib import Path

from actors.solve.checker import check_roster
from actors.solve.constraints import ModelFlags, build_model
from actors.solve.lns import Incumbent, LnsWorker
from actors.solve.model import add_hints
from actors.solve.reader import parse_problem_text

DATA = Path(__file__).resolve().parents[2] / "data" / "shift_scheduling"


def worker_for(number: int, seen: list[int]) -> tuple[LnsWorker, Incumbent]:
    problem = parse_problem_text((DATA / f"Instance{number}.txt").read_text())
    rm = build_model(problem, ModelFlags(flow=False, windows=False))
    inc = Incumbent(on_improve=lambda objective, source: seen.append(objective))
    worker = LnsWorker(rm, inc, 0, time.monotonic(), lambda m, r: add_hints(rm, r, m))
    return worker, inc


def test_lns_improves_its_first_roster_and_every_incumbent_passes_the_checker() -> None:
    seen: list[int] = []
    worker, inc = worker_for(5, seen)
    worker.run(time.monotonic() + 5)
    assert len(seen) >= 2 and seen == sorted(seen, reverse=True) and seen[-1] < seen[0]
    report = check_roster(worker.rm.problem, inc.roster)
    assert report.feasible and report.objective == inc.objective == seen[-1]
    assert worker.steps > 0


def test_stopping_the_lns_ends_it_promptly() -> None:
    worker, _ = worker_for(8, [])
    thread = threading.Thread(target=worker.run, args=(time.monotonic() + 60,))
    thread.start()
    time.sleep(1.0)
    stopped = time.monotonic()
    worker.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert time.monotonic() - stopped < 3
