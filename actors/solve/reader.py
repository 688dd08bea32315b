"""Reader for the Shift Scheduling Benchmark text format (Curtois & Qu).

Sections start with a line holding only their keyword and end at a blank line; ``#`` starts a
comment line; fields are comma-separated. Every error raises :class:`ProblemFormatError` naming
the 1-based line number and what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError

from actors.solve.errors import ProblemFormatError
from actors.solve.schema import CoverRequirement, RosterProblem, ShiftRequest, ShiftType, Staff

SECTIONS = (
    "SECTION_HORIZON",
    "SECTION_SHIFTS",
    "SECTION_STAFF",
    "SECTION_DAYS_OFF",
    "SECTION_SHIFT_ON_REQUESTS",
    "SECTION_SHIFT_OFF_REQUESTS",
    "SECTION_COVER",
)

Row = tuple[int, list[str]]


def parse_problem_text(text: str, name: str | None = None) -> RosterProblem:
    """Parse benchmark text into a :class:`RosterProblem`."""
    sections = _split_sections(text)
    if "SECTION_HORIZON" not in sections:
        raise ProblemFormatError("missing SECTION_HORIZON")
    days = _horizon(sections["SECTION_HORIZON"])
    _no_duplicates(sections.get("SECTION_SHIFTS", []), "shift id")
    _no_duplicates(sections.get("SECTION_STAFF", []), "staff id")
    shifts = [_shift(n, f) for n, f in sections.get("SECTION_SHIFTS", [])]
    if not shifts:
        raise ProblemFormatError("SECTION_SHIFTS is missing or empty")
    shift_ids = {s.id for s in shifts}
    staff = [_staff(n, f, shift_ids) for n, f in sections.get("SECTION_STAFF", [])]
    if not staff:
        raise ProblemFormatError("SECTION_STAFF is missing or empty")
    by_id = {e.id: e for e in staff}
    for n, f in sections.get("SECTION_DAYS_OFF", []):
        _days_off(n, f, by_id, days)
    ctx = _Context(days, shift_ids, set(by_id))
    on = [_request(n, f, ctx) for n, f in sections.get("SECTION_SHIFT_ON_REQUESTS", [])]
    off = [_request(n, f, ctx) for n, f in sections.get("SECTION_SHIFT_OFF_REQUESTS", [])]
    cover = [_cover(n, f, ctx) for n, f in sections.get("SECTION_COVER", [])]
    payload = {
        "name": name,
        "horizon": {"days": days},
        "shifts": shifts,
        "staff": staff,
        "shift_on_requests": on,
        "shift_off_requests": off,
        "cover": cover,
    }
    try:
        return RosterProblem.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ProblemFormatError(f"invalid problem: {first['msg']}") from None


class _Context:
    def __init__(self, days: int, shift_ids: set[str], staff_ids: set[str]) -> None:
        self.days = days
        self.shift_ids = shift_ids
        self.staff_ids = staff_ids


def _split_sections(text: str) -> dict[str, list[Row]]:
    sections: dict[str, list[Row]] = {}
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            current = None
            continue
        if line.startswith("SECTION_"):
            if line not in SECTIONS:
                raise ProblemFormatError(f"unknown section {line!r}", line=number)
            if line in sections:
                raise ProblemFormatError(f"section {line} appears twice", line=number)
            current = line
            sections[current] = []
            continue
        if current is None:
            raise ProblemFormatError(f"data outside any section: {line!r}", line=number)
        sections[current].append((number, [f.strip() for f in line.split(",")]))
    return sections


def _no_duplicates(rows: list[Row], what: str) -> None:
    seen: set[str] = set()
    for number, fields in rows:
        if fields[0] in seen:
            raise ProblemFormatError(f"duplicate {what} {fields[0]!r}", line=number)
        seen.add(fields[0])


def _horizon(rows: list[Row]) -> int:
    if len(rows) != 1:
        line = rows[1][0] if len(rows) > 1 else None
        raise ProblemFormatError("SECTION_HORIZON must hold exactly one number", line=line)
    number, fields = rows[0]
    days = _int(number, fields[0], "horizon length")
    if days < 1 or len(fields) != 1:
        raise ProblemFormatError("horizon must be one positive number of days", line=number)
    return days


def _int(line: int, value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ProblemFormatError(f"{what} must be an integer, got {value!r}", line=line) from None


def _arity(line: int, fields: list[str], expected: int, section: str) -> None:
    if len(fields) != expected:
        raise ProblemFormatError(
            f"{section} row needs {expected} fields, got {len(fields)}", line=line
        )


def _shift(line: int, fields: list[str]) -> ShiftType:
    _arity(line, fields, 3, "SECTION_SHIFTS")
    length = _int(line, fields[1], "shift length")
    if not fields[0] or length <= 0:
        raise ProblemFormatError("shift needs an id and a positive length", line=line)
    follow = [s.strip() for s in fields[2].split("|") if s.strip()]
    return ShiftType(id=fields[0], length_minutes=length, cannot_follow=follow)


def _staff(line: int, fields: list[str], shift_ids: set[str]) -> Staff:
    _arity(line, fields, 8, "SECTION_STAFF")
    max_shifts: dict[str, int] = {}
    for pair in filter(None, (p.strip() for p in fields[1].split("|"))):
        shift, sep, count = pair.partition("=")
        if not sep or shift not in shift_ids:
            raise ProblemFormatError(f"bad MaxShifts entry {pair!r}", line=line)
        max_shifts[shift] = _int(line, count, f"MaxShifts for {shift}")
    names = ("MaxTotalMinutes", "MinTotalMinutes", "MaxConsecutiveShifts",
             "MinConsecutiveShifts", "MinConsecutiveDaysOff", "MaxWeekends")
    v = {n: _int(line, f, n) for n, f in zip(names, fields[2:], strict=True)}
    if min(v.values()) < 0 or min(max_shifts.values(), default=0) < 0:
        raise ProblemFormatError("staff limits must not be negative", line=line)
    return _build(line, Staff, {
        "id": fields[0], "max_shifts": max_shifts,
        "max_total_minutes": v["MaxTotalMinutes"], "min_total_minutes": v["MinTotalMinutes"],
        "max_consecutive_shifts": v["MaxConsecutiveShifts"],
        "min_consecutive_shifts": max(1, v["MinConsecutiveShifts"]),
        "min_consecutive_days_off": max(1, v["MinConsecutiveDaysOff"]),
        "max_weekends": v["MaxWeekends"],
    })


def _build(line: int, cls: Callable[..., object], data: dict[str, object]):  # noqa: ANN202
    try:
        return cls(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ProblemFormatError(f"{field}: {first['msg']}", line=line) from None


def _check_refs(line: int, ctx: _Context, staff: str | None, day: int, shift: str | None) -> None:
    if staff is not None and staff not in ctx.staff_ids:
        raise ProblemFormatError(f"unknown staff id {staff!r}", line=line)
    if shift is not None and shift not in ctx.shift_ids:
        raise ProblemFormatError(f"unknown shift id {shift!r}", line=line)
    if not 0 <= day < ctx.days:
        raise ProblemFormatError(f"day {day} outside the horizon 0..{ctx.days - 1}", line=line)


def _days_off(line: int, fields: list[str], by_id: dict[str, Staff], days: int) -> None:
    staff = by_id.get(fields[0])
    if staff is None:
        raise ProblemFormatError(f"unknown staff id {fields[0]!r}", line=line)
    for value in filter(None, fields[1:]):
        day = _int(line, value, "day off")
        if not 0 <= day < days:
            raise ProblemFormatError(f"day {day} outside the horizon 0..{days - 1}", line=line)
        if day not in staff.days_off:
            staff.days_off.append(day)


def _request(line: int, fields: list[str], ctx: _Context) -> ShiftRequest:
    _arity(line, fields, 4, "shift request")
    day = _int(line, fields[1], "day")
    _check_refs(line, ctx, fields[0], day, fields[2])
    weight = _int(line, fields[3], "weight")
    return _build(line, ShiftRequest,
                  {"staff_id": fields[0], "day": day, "shift_id": fields[2], "weight": weight})


def _cover(line: int, fields: list[str], ctx: _Context) -> CoverRequirement:
    _arity(line, fields, 5, "SECTION_COVER")
    day = _int(line, fields[0], "day")
    _check_refs(line, ctx, None, day, fields[1])
    names = ("requirement", "weight under", "weight over")
    req, under, over = (_int(line, f, n) for f, n in zip(fields[2:], names, strict=True))
    return _build(line, CoverRequirement, {"day": day, "shift_id": fields[1], "requirement": req,
                                           "weight_under": under, "weight_over": over})
