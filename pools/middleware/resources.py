"""Resources created in the worker process after the fork (models, clients, CUDA).

A module registers a factory with ``register(name, factory, queues=...)``; the worker creates it
at boot when it consumes one of those queues, and actors read it with ``get(name)``. Nothing is
created at import, and nothing is created in a process that does not need it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from dramatiq.middleware import Middleware

from pools.procs import freeze_boot_objects

log = logging.getLogger(__name__)

_factories: dict[str, tuple[Callable[[], Any], frozenset[str]]] = {}
_instances: dict[str, Any] = {}
_lock = threading.Lock()


def register(name: str, factory: Callable[[], Any], *, queues: Iterable[str] = ()) -> None:
    _factories[name] = (factory, frozenset(queues))


def get(name: str) -> Any:
    """The resource, created now if the boot hook did not (e.g. in a test or the API)."""
    with _lock:
        if name not in _instances:
            factory, _ = _factories[name]
            _instances[name] = factory()
        return _instances[name]


def loaded() -> dict[str, Any]:
    return dict(_instances)


def reset() -> None:
    for instance in _instances.values():
        close = getattr(instance, "close", None)
        if callable(close):
            close()
    _instances.clear()


class Resources(Middleware):
    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        queues = set(getattr(worker, "consumer_whitelist", None) or broker.get_declared_queues())
        for name, (_, wanted) in list(_factories.items()):
            if not wanted or wanted & queues:
                log.info("loading resource %s", name)
                get(name)
        freeze_boot_objects()  # after the models: they live as long as the process

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        reset()
