"""Scraping: a batch job with one child job per domain."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AppSettings, IdempotencyKey, Service
from api.errors import HttpProblem
from api.schemas.jobs import Accepted, accepted
from api.schemas.scrape import ScrapeRequest
from config.settings import Settings

router = APIRouter(prefix="/v1/scrape", tags=["scrape"])


@router.post("", status_code=202, response_model=Accepted,
             summary="Scrape company data from domains",
             description="Returns a batch job; `GET /v1/jobs/{id}` shows total, completed, "
                         "failed and blocked, and the batch result gathers every record.",
             responses={422: {"description": "Invalid domains, each named"}},
             openapi_extra={"requestBody": {"content": {"application/json": {"example": {
                 "domains": ["acme.com", "example.org"], "max_pages_per_domain": 5}}}}})
def submit_scrape(body: ScrapeRequest, service: Service, settings: AppSettings,
                  key: IdempotencyKey) -> Accepted:
    domains = checked_domains(body, settings)
    items = [((d,), {"max_pages": body.max_pages_per_domain, "refresh": body.refresh,
                     "index_images": body.index_images}) for d in domains]
    sub = service.submit_batch(
        "scrape_domain", kind="scrape-batch", child_kind="scrape", items=items,
        idempotency_key=key, callback_url=str(body.callback_url) if body.callback_url else None,
        summary={"domains": len(domains), "duplicates": len(body.domains) - len(domains)},
        child_summaries=[{"domain": d} for d in domains],
    )
    return accepted(sub.job, sub.created)


def checked_domains(body: ScrapeRequest, settings: Settings) -> list[str]:
    """The request's domains, normalised; 413 over the limit, 422 naming each invalid one."""
    from actors.scrape.domains import normalise_domains

    limit = settings.scrape.max_domains_per_request
    if len(body.domains) > limit:
        raise HttpProblem(413, f"{len(body.domains)} domains; the limit "
                               f"(max_domains_per_request) is {limit}")
    domains, bad = normalise_domains(body.domains)
    if bad:
        listed = "; ".join(f"{b.input!r}: {b.reason}" for b in bad[:20])
        raise HttpProblem(422, f"invalid domains: {listed}",
                          invalid=[b.model_dump() for b in bad])
    return domains
