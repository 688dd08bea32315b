import itertools

from actors.solve.automaton import run_automaton
from actors.solve.checker import check_roster
from actors.solve.schema import RosterProblem


def accepts(start: int, transitions: list[tuple[int, int, int]], word: tuple[int, ...]) -> bool:
    delta = {(s, label): t for s, label, t in transitions}
    state: int | None = start
    for label in word:
        state = delta.get((state, label))
        if state is None:
            return False
    return True


def test_run_automaton_accepts_exactly_the_patterns_the_checker_accepts() -> None:
    days = 10
    problem = RosterProblem.model_validate({
        "horizon": {"days": days},
        "shifts": [{"id": "D", "length_minutes": 60}],
        "staff": [{"id": "A", "max_consecutive_shifts": 4, "min_consecutive_shifts": 2,
                   "min_consecutive_days_off": 3}],
    })
    start, finals, transitions = run_automaton(days, 4, 2, 3)
    assert finals  # every state is final: runs touching the end are exempt
    for word in itertools.product([0, 1], repeat=days):
        roster = {"A": ["D" if w else None for w in word]}
        assert accepts(start, transitions, word) == check_roster(problem, roster).feasible, word
