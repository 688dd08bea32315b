"""Rostering: submit a problem (JSON or the benchmark text format)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import AppSettings, IdempotencyKey, Service
from api.errors import HttpProblem
from api.schemas.jobs import Accepted, accepted
from api.schemas.solve import SolveRequest, SolveRequestOptions
from config.settings import Settings
from pools.service import JobService

router = APIRouter(prefix="/v1/solve", tags=["solve"])

_TEXT_EXAMPLE = "SECTION_HORIZON\n7\n\nSECTION_SHIFTS\nD,480,\n..."


@router.post(
    "", status_code=202, response_model=Accepted, summary="Solve a roster",
    description="JSON (`application/json`, a `SolveRequest`) or the Shift Scheduling Benchmark "
    "text (`text/plain`, options as query parameters). Malformed input: 422 naming the line or "
    "field. Over a size limit: 413 naming the limit.",
    openapi_extra={"requestBody": {"content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/SolveRequest"},
                             "example": SolveRequest.model_config["json_schema_extra"][
                                 "examples"][0]},
        "text/plain": {"schema": {"type": "string"}, "example": _TEXT_EXAMPLE}}}},
    responses={413: {"description": "Problem over a configured limit"},
               422: {"description": "Malformed problem"}},
)
async def submit_solve(
    request: Request, service: Service, settings: AppSettings, key: IdempotencyKey,
    time_limit_s: Annotated[float | None, Query(gt=0)] = None,
    workers: Annotated[int | None, Query(ge=1)] = None,
    seed: Annotated[int, Query(ge=0)] = 0,
) -> Accepted:
    # The body is at most solve.max_text_bytes: api.limits refuses bigger ones unread.
    body = await request.body()
    options = SolveRequestOptions(time_limit_s=time_limit_s, workers=workers, seed=seed)
    content_type = request.headers.get("content-type", "")
    return await run_in_threadpool(_submit, service, settings, key, content_type, body, options)


def _submit(service: Service, settings: AppSettings, key: str | None, content_type: str,
            body: bytes, query_options: SolveRequestOptions) -> Accepted:
    return submit_request(service, settings, _parse(content_type, body, query_options), key)


def submit_request(service: JobService, settings: Settings, req: SolveRequest,
                   key: str | None) -> Accepted:
    """Submit a parsed request (the route's path, and a schedule's)."""
    problem = checked_problem(req, settings)
    options = _options(service, req.options)
    sub = service.submit(
        "solve_roster", kind="solve",
        args=(problem.model_dump(mode="json"), options), idempotency_key=key,
        callback_url=str(req.callback_url) if req.callback_url else None,
        delay_ms=req.delay_ms,
        summary={"problem": problem.name, "staff": len(problem.staff),
                 "days": problem.horizon.days},
    )
    return accepted(sub.job, sub.created)


def checked_problem(req: SolveRequest, settings: Settings) -> Any:
    """The request's problem; 422 naming the field, 413 naming the limit it exceeds."""
    from actors.solve.limits import check_limits

    problem = _problem(req.problem)
    check_limits(problem, settings.solve)
    return problem


def _parse(content_type: str, body: bytes, query_options: SolveRequestOptions) -> SolveRequest:
    if content_type.startswith("text/plain"):
        from actors.solve.reader import parse_problem_text

        problem = parse_problem_text(_utf8(body))  # ProblemFormatError → 422 naming the line
        return SolveRequest(problem=problem.model_dump(mode="json"), options=query_options)
    if not content_type.startswith("application/json"):
        raise HttpProblem(415, "send application/json (a SolveRequest) or text/plain "
                               "(the benchmark format)")
    try:
        return SolveRequest.model_validate(json.loads(_utf8(body)))
    except json.JSONDecodeError as exc:
        raise HttpProblem(422, f"body is not JSON: line {exc.lineno} column {exc.colno}: "
                               f"{exc.msg}") from None
    except RecursionError:
        raise HttpProblem(422, "body is not acceptable JSON: it is nested too deeply") from None
    except ValidationError as exc:
        raise HttpProblem(422, _describe(exc), details=_details(exc)) from None


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")  # a leading BOM is dropped
    except UnicodeDecodeError as exc:
        line = body[:exc.start].count(b"\n") + 1
        raise HttpProblem(422, f"body is not valid UTF-8: line {line}, byte {exc.start}: "
                               f"{exc.reason}") from None


def _problem(data: dict[str, Any]) -> Any:
    from actors.solve.schema import RosterProblem

    try:
        return RosterProblem.model_validate(data)
    except ValidationError as exc:
        raise HttpProblem(422, _describe(exc, prefix="problem"),
                          details=_details(exc, "problem")) from None


def _options(service: Service, options: SolveRequestOptions) -> dict[str, Any]:
    out = options.model_dump(exclude_none=True, exclude={"hint_from"})
    if options.hint_from:
        previous = service.result(options.hint_from)
        if not isinstance(previous, dict) or not previous.get("assignments"):
            raise HttpProblem(422, f"job {options.hint_from} has no roster to hint from")
        out["hint"] = previous["assignments"]
    return out


def _details(exc: ValidationError, prefix: str | None = None) -> list[dict[str, str]]:
    return [{"field": ".".join([*([prefix] if prefix else []), *map(str, e["loc"])]),
             "message": e["msg"]} for e in exc.errors()]


def _describe(exc: ValidationError, prefix: str | None = None) -> str:
    return "invalid request: " + "; ".join(f"{d['field']}: {d['message']}"
                                           for d in _details(exc, prefix))
