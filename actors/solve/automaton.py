"""A regular automaton over a day-by-day work(1)/off(0) sequence for the run constraints.

Accepts exactly the sequences where every run of work is at most ``max_on`` long, and every
run of work (off) not touching the start or end of the horizon is at least ``min_on``
(``min_off``) long. Runs touching the end are exempt, so every state is final.
"""

from __future__ import annotations

State = tuple[str, int, bool]  # (kind "W"/"O", run length so far (capped), touches start)


def run_automaton(
    days: int, max_on: int | None, min_on: int, min_off: int
) -> tuple[int, list[int], list[tuple[int, int, int]]]:
    """Return (start state, final states, transitions) for ``CpModel.add_automaton``."""
    cap_on = max_on if max_on is not None else max(min_on, 1)
    cap_on = min(cap_on, days)
    ids: dict[State | str, int] = {"start": 0}
    transitions: list[tuple[int, int, int]] = []
    todo: list[State | str] = ["start"]

    def norm(kind: str, k: int, border: bool) -> State:
        minimum = min_on if kind == "W" else min_off
        if kind == "O":
            k = min(k, minimum)
        return (kind, k, border and k < minimum)

    def edge(src: State | str, label: int, dst: State) -> None:
        if dst not in ids:
            ids[dst] = len(ids)
            todo.append(dst)
        transitions.append((ids[src], label, ids[dst]))

    while todo:
        state = todo.pop()
        if state == "start":
            edge(state, 1, norm("W", 1, True))
            edge(state, 0, norm("O", 1, True))
            continue
        kind, k, border = state
        if kind == "W":
            if max_on is None or k + 1 <= max_on:
                edge(state, 1, norm("W", min(k + 1, cap_on), border))
            if border or k >= min_on:
                edge(state, 0, norm("O", 1, False))
        else:
            edge(state, 0, norm("O", k + 1, border))
            if border or k >= min_off:
                edge(state, 1, norm("W", 1, False))
    return 0, sorted(ids.values()), transitions
