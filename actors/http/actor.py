"""The ``http_request`` actor: call a URL for a job, with retries, without holding a thread.

Thin: read the job's spec, set its retry budget on the message, hand the call to the process's
event loop and return ``defer(future)``: the worker thread is free at once, the message stays
held until the call ends, and its outcome goes through the usual middleware (result, retries
with backoff or the server's ``Retry-After``, job state) — see ``pools.deferred``.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage

from config.queues import HTTP
from config.settings import get_settings
from pools import deferred
from pools.middleware import resources

_s = get_settings().http
deferred.set_prefetch(HTTP, _s.max_in_flight)


def _runtime() -> Any:
    from actors.http.runtime import HttpRuntime

    return HttpRuntime(get_settings())


resources.register("http", _runtime, queues=[HTTP])


@dramatiq.actor(queue_name=HTTP, actor_name="http_request", store_results=True,
                max_retries=_s.max_retries, min_backoff=_s.min_backoff_ms,
                max_backoff=_s.max_backoff_ms, time_limit=60_000)
def http_request(request: dict[str, Any], max_retries: int = 3) -> deferred.Deferred:
    from actors.http.call import CallSpec

    message = CurrentMessage.get_current_message()
    attempt = 1
    if message is not None:
        message.options["max_retries"] = min(max_retries, _s.max_retries)  # this job's budget
        attempt = message.options.get("retries", 0) + 1
        job_id = message.message_id
    else:  # called directly (a test or a script)
        job_id = "direct"
    spec = CallSpec(**request)
    return deferred.defer(resources.get("http").call(job_id, spec, attempt))
