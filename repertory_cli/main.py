"""``repertory``: run the stack, a pool, the API; print settings; submit work.

    repertory up                 API + worker pools + scheduler (+ embedded Valkey)
    repertory worker --pool cpu  one pool, supervised
    repertory api                the API alone
    repertory config             the effective settings, secrets masked
"""

from __future__ import annotations

import argparse
import json
import sys

from config.settings import SettingsError, get_settings, masked_dump
from repertory_cli.registry import command, commands


@command("config", "print the effective settings (secrets masked)")
def cmd_config(ns: argparse.Namespace) -> int:
    print(json.dumps(masked_dump(get_settings()), indent=2))
    return 0


def _pool_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pool", required=True, help="cpu, gpu or index")


@command("worker", "run one worker pool in the foreground", _pool_args)
def cmd_worker(ns: argparse.Namespace) -> int:
    from pools.launcher import Supervisor, worker_children

    settings = get_settings()
    try:
        children = worker_children(settings, ns.pool)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    return Supervisor(children, shutdown_timeout_s=_grace(settings)).run()


@command("api", "run the API in the foreground")
def cmd_api(ns: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    taken = _taken_ports(settings, embedded=False)
    if taken:
        return _refuse("api", taken)
    from pools.logs import log_config

    uvicorn.run("api.main:create_app", factory=True, host=settings.api.host,
                port=settings.api.port, workers=settings.api.workers,
                log_config=log_config(settings))
    return 0


@command("scheduler", "run the scheduler: code and user schedules (any number may run; one "
                      "leader sends)")
def cmd_scheduler(ns: argparse.Namespace) -> int:
    from repertory_cli.scheduler import run_scheduler

    return run_scheduler(get_settings())


def _up_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pools", default=None,
                   help="comma-separated pools to start (default: REPERTORY_UP_POOLS)")
    p.add_argument("--no-scheduler", action="store_true", help="do not start the scheduler")


@command("up", "run the whole stack: embedded Valkey (no REDIS_URL), API, pools, scheduler",
         _up_args)
def cmd_up(ns: argparse.Namespace) -> int:
    from pools.launcher import Supervisor, api_child, scheduler_child, worker_children

    settings = get_settings()
    taken = _taken_ports(settings, embedded=settings.redis.url is None)
    if taken:
        return _refuse("up", taken)
    try:
        valkey = _start_embedded(settings)
    except RuntimeError as exc:
        print(f"repertory up: the embedded Valkey did not start: {exc}", file=sys.stderr)
        return 1
    try:
        children = [api_child(settings)]
        for pool in (ns.pools or ",".join(settings.up_pools)).split(","):
            children += worker_children(settings, pool.strip())
        if not ns.no_scheduler:
            children.append(scheduler_child(settings))
        print(f"repertory up: API on http://{settings.api.host}:{settings.api.port} "
              f"(dashboard at /dashboard); Ctrl-C stops everything", flush=True)
        return Supervisor(children, shutdown_timeout_s=_grace(settings)).run()
    finally:
        if valkey is not None:
            valkey.stop()


def _start_embedded(settings):  # noqa: ANN001, ANN202
    if settings.redis.url is not None:
        return None
    from pools.embedded import EmbeddedValkey

    valkey = EmbeddedValkey(settings.var_dir / "valkey", port=settings.redis.embedded_port)
    print(f"starting embedded Valkey on {valkey.url} (data in {valkey.data_dir})", flush=True)
    valkey.start()
    return valkey


def _taken_ports(settings, *, embedded: bool) -> list[str]:  # noqa: ANN001
    """What `up`/`api` would bind that something else already holds, with the setting to change."""
    from pools.procs import port_in_use

    wanted = [("the API", settings.api.host, settings.api.port, "REPERTORY_API__PORT")]
    if embedded:
        wanted.insert(0, ("the embedded Valkey", "127.0.0.1", settings.redis.embedded_port,
                          "REPERTORY_REDIS__EMBEDDED_PORT (or set REDIS_URL to use a server "
                          "of your own)"))
    return [f"port {port} on {host}, wanted by {what}, is already in use: stop what holds it "
            f"or choose another port with {setting}"
            for what, host, port, setting in wanted if port_in_use(host, port)]


def _refuse(command: str, taken: list[str]) -> int:
    for line in taken:
        print(f"repertory {command}: {line}", file=sys.stderr)
    print(f"repertory {command}: nothing was started", file=sys.stderr, flush=True)
    return 1


def _grace(settings) -> float:  # noqa: ANN001
    return settings.pools.shutdown_timeout_ms / 1000 + 5


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="repertory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (fn, add_args, help_text) in commands.items():
        p = sub.add_parser(name, help=help_text)
        add_args(p)
        p.set_defaults(fn=fn)
    return parser


def main(argv: list[str] | None = None) -> int:
    _load_plugins()
    ns = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    from pools.logs import configure

    configure(settings, verbose=ns.verbose)  # REPERTORY_LOGGING__FORMAT / __LEVEL
    return ns.fn(ns)


def _load_plugins() -> None:
    """Workload commands (solve, scrape, images, search) register themselves on import."""
    import importlib

    for name in ("repertory_cli.client_commands", "repertory_cli.images"):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


if __name__ == "__main__":
    sys.exit(main())
