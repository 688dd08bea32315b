from pathlib import Path

import pytest

from actors.solve.errors import ProblemFormatError
from actors.solve.reader import parse_problem_text
from actors.solve.schema import RosterProblem

DATA = Path(__file__).resolve().parents[2] / "data" / "shift_scheduling"

# From the benchmark README's instance table:
# days, staff, shift types, days-off entries, on+off requests, cover rows.
TABLE = {
    1: (14, 8, 1, 8, 26, 14),
    2: (14, 14, 2, 14, 62, 28),
    3: (14, 20, 3, 20, 64, 42),
    4: (28, 10, 2, 20, 71, 56),
    5: (28, 16, 2, 32, 106, 56),
    6: (28, 18, 3, 36, 135, 84),
    7: (28, 20, 3, 40, 168, 84),
    8: (28, 30, 4, 60, 225, 112),
}

SMALL = """SECTION_HORIZON
7

SECTION_SHIFTS
D,480,
N,480,D

SECTION_STAFF
A,D=7|N=2,2400,960,5,2,2,1

SECTION_DAYS_OFF
A,2

SECTION_SHIFT_ON_REQUESTS
A,0,D,2

SECTION_SHIFT_OFF_REQUESTS

SECTION_COVER
0,D,1,100,1
"""


@pytest.mark.parametrize("number", sorted(TABLE))
def test_reader_counts_match_the_published_instance_table(number: int) -> None:
    problem = parse_problem_text((DATA / f"Instance{number}.txt").read_text())
    counts = (
        problem.horizon.days,
        len(problem.staff),
        len(problem.shifts),
        sum(len(s.days_off) for s in problem.staff),
        len(problem.shift_on_requests) + len(problem.shift_off_requests),
        len(problem.cover),
    )
    assert counts == TABLE[number]


def test_reader_maps_every_staff_field_of_a_row() -> None:
    problem = parse_problem_text(SMALL)
    a = problem.staff[0]
    assert (a.max_shifts, a.max_total_minutes, a.min_total_minutes) == ({"D": 7, "N": 2}, 2400, 960)
    assert (a.max_consecutive_shifts, a.min_consecutive_shifts) == (5, 2)
    assert (a.min_consecutive_days_off, a.max_weekends, a.days_off) == (2, 1, [2])
    assert problem.shifts[1].cannot_follow == ["D"]
    assert problem.shift_on_requests[0].weight == 2
    assert problem.cover[0].weight_under == 100


def test_parsed_problem_round_trips_through_json() -> None:
    problem = parse_problem_text((DATA / "Instance3.txt").read_text())
    assert RosterProblem.model_validate_json(problem.model_dump_json()) == problem


@pytest.mark.parametrize(
    ("broken", "line", "words"),
    [
        (SMALL.replace("A,D=7|N=2,2400,960,5,2,2,1", "A,D=7|N=2,2400,lots,5,2,2,1"), 9,
         "MinTotalMinutes"),
        (SMALL.replace("A,0,D,2", "A,0,X,2"), 15, "unknown shift id 'X'"),
        (SMALL.replace("A,0,D,2", "Z,0,D,2"), 15, "unknown staff id 'Z'"),
        (SMALL.replace("0,D,1,100,1", "9,D,1,100,1"), 20, "outside the horizon"),
        (SMALL.replace("0,D,1,100,1", "0,D,1,100"), 20, "needs 5 fields"),
        (SMALL.replace("SECTION_COVER", "SECTION_COVERS"), 19, "unknown section"),
        (SMALL.replace("N,480,D", "N,480,D\nD,480,"), 7, "duplicate shift id"),
    ],
)
def test_malformed_text_raises_a_format_error_naming_the_line(
    broken: str, line: int | None, words: str
) -> None:
    with pytest.raises(ProblemFormatError) as info:
        parse_problem_text(broken)
    assert words in str(info.value)
    if line is not None:
        assert info.value.line == line
        assert str(info.value).startswith(f"line {line}:")
