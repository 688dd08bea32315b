"""Log lines: one JSON object a line for log stores, or a short human line for a terminal.

Every line a worker writes while it runs a job (Dramatiq's, the middleware's, the actor's own)
carries the job: ``job_id``, ``kind``, ``queue``, ``attempt`` and ``actor``, and every line the
worker (``host``, ``pid``, ``pool``). ``JobLogContext``, a middleware, puts the job in a context
variable before the job runs and clears it after; the ``JobFields`` filter of the handler copies
it onto each record. Lines from threads an actor starts itself carry it only if the thread runs
in a copy of the job's context (``contextvars.copy_context``).

The format and level are settings (``REPERTORY_LOGGING__FORMAT=json|human``,
``REPERTORY_LOGGING__LEVEL``). ``configure`` applies them to a process (the CLI, a worker at
boot, the API factory); ``log_config`` is the same as a ``logging.config.dictConfig`` dict, the
form uvicorn's ``log_config`` takes.
"""

from __future__ import annotations

import json
import logging
import logging.config
import socket
import sys
import time
from contextvars import ContextVar
from typing import Any

from dramatiq.middleware import Middleware

from config.settings import Settings

_job: ContextVar[dict[str, Any] | None] = ContextVar("repertory_job", default=None)

#: Loggers too chatty at INFO (httpx logs every request of the scraper).
QUIET = ("httpx", "httpcore")
#: uvicorn's own loggers: they go through the root handler like every other line.
UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")
#: Attributes every LogRecord has; anything else on a record came from ``extra=`` (uvicorn's
#: ``color_message`` is its message again with terminal colours).
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName",
                                                     "color_message"}


# ------------------------------------------------------------------ the job of this thread


def job_fields(message: Any) -> dict[str, Any]:
    """What every line about ``message`` says about its job."""
    options = message.options
    return {"job_id": message.message_id, "kind": options.get("job_kind") or message.actor_name,
            "queue": message.queue_name.removesuffix(".DQ"), "actor": message.actor_name,
            "attempt": int(options.get("retries", 0)) + 1}


def current_job() -> dict[str, Any] | None:
    return _job.get()


def bind_job(fields: dict[str, Any] | None) -> None:
    _job.set(fields)


class JobLogContext(Middleware):
    """Binds the job a worker thread runs to its log lines; sets up logging at process boot.

    Sits early in the middleware list: the "before" hooks after it and the "after" hooks
    before it (Dramatiq runs those in reverse) write lines that carry the job."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def after_process_boot(self, broker: Any) -> None:
        configure(self.settings)

    def before_process_message(self, broker: Any, message: Any) -> None:
        bind_job(job_fields(message))

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        bind_job(None)

    def after_skip_message(self, broker: Any, message: Any) -> None:
        bind_job(None)


# ------------------------------------------------------------------ records and formats


class JobFields(logging.Filter):
    """Stamps the current job (or None) and the worker on each record."""

    def __init__(self, pool: str | None = None) -> None:
        super().__init__()
        self.host = socket.gethostname()
        self.pool = pool

    def filter(self, record: logging.LogRecord) -> bool:
        record.repertory_job = _job.get()
        record.repertory_worker = {"worker": f"{self.host}:{record.process}", "host": self.host,
                                   "pid": record.process, "pool": self.pool}
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, worker, job, ``extra`` fields,
    and the traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _iso(record.created), "level": record.levelname.lower(),
            "logger": record.name, "message": record.getMessage(),
            "thread": record.threadName,
        }
        line.update(getattr(record, "repertory_worker", None) or {"pid": record.process})
        line.update(getattr(record, "repertory_job", None) or {})
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("repertory_") and key not in line:
                line[key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class HumanFormatter(logging.Formatter):
    """``time LEVEL logger [pid] [job id kind#attempt]: message`` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(process)d]%(job)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        job = getattr(record, "repertory_job", None)
        tag = f" [job {job['job_id']} {job['kind']}#{job['attempt']}]" if job else ""
        return self._style._fmt % {**vars(record), "job": tag}


def _iso(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the line (Dramatiq points it at
    its log pipe in worker processes; tests swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


# ------------------------------------------------------------------ applying the settings


def log_config(settings: Settings, *, verbose: bool = False) -> dict[str, Any]:
    """``dictConfig`` for the settings: one stderr handler on the root logger; uvicorn's and
    Dramatiq's loggers propagate to it. Also uvicorn's ``log_config``."""
    logs = settings.logging
    formatter = {"()": JsonFormatter} if logs.format == "json" else {"()": HumanFormatter}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"job": {"()": JobFields, "pool": settings.pools.current}},
        "formatters": {"repertory": formatter},
        "handlers": {"stderr": {"()": StderrHandler, "formatter": "repertory",
                                "filters": ["job"]}},
        "loggers": {**{name: {"handlers": [], "propagate": True} for name in UVICORN},
                    **{name: {"level": "WARNING"} for name in QUIET}},
        "root": {"handlers": ["stderr"], "level": "DEBUG" if verbose else logs.level},
    }


def configure(settings: Settings, *, verbose: bool = False) -> None:
    """Replace the root logger's handlers with ours (Dramatiq's and uvicorn's own go). An
    access log that uvicorn was told to leave off (``--no-access-log``) stays off."""
    access = logging.getLogger("uvicorn.access")
    access_off = not access.handlers and not access.propagate
    logging.config.dictConfig(log_config(settings, verbose=verbose))
    if access_off:
        access.propagate = False


def writes_json() -> bool:
    """Whether this process's log lines are JSON (``configure`` with ``format: json``)."""
    return any(isinstance(h.formatter, JsonFormatter) for h in logging.getLogger().handlers)
