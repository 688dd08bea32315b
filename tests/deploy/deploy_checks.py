"""Readers for the deployment files: Dockerfiles, .dockerignore, compose.

No Docker engine or Bicep compiler runs here. The files are read with real parsers
(BuildKit's Dockerfile parser from PyPI ``dockerfile``, YAML; Bicep: ``bicep_tree.py``) and
checked by the real linters (``deploy_tools.py``); the tests then hold them against the code
they deploy (the CLI parser, the pools, the settings tree, the routes).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path

import dockerfile
import yaml
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILES = ("Dockerfile.cpu", "Dockerfile.gpu")
BICEP = ROOT / "deploy" / "azure" / "main.bicep"


# ------------------------------------------------------------------ Dockerfiles


@dataclass(frozen=True)
class Instruction:
    """One instruction as BuildKit parses it."""

    keyword: str
    value: tuple[str, ...]  # its arguments (RUN/CMD shell form: the one command line)
    flags: tuple[str, ...]  # --from=build, --interval=15s
    exec_form: bool  # JSON array form (CMD, ENTRYPOINT, VOLUME, HEALTHCHECK CMD)
    stage: int  # index of the FROM stage it belongs to

    @property
    def text(self) -> str:
        return " ".join(self.value)


def parse_dockerfile(text: str) -> list[Instruction]:
    out: list[Instruction] = []
    stage = -1
    for command in dockerfile.parse_string(text):
        keyword = command.cmd.upper()
        stage += keyword == "FROM"
        out.append(Instruction(keyword, tuple(command.value), tuple(command.flags),
                               command.json, stage))
    return out


def read_dockerfile(name: str) -> list[Instruction]:
    return parse_dockerfile((ROOT / name).read_text())


def stage_names(instructions: list[Instruction]) -> list[str]:
    names = []
    for ins in instructions:
        if ins.keyword == "FROM":
            value = ins.value
            names.append(value[2] if len(value) >= 3 and value[1].upper() == "AS" else "")
    return names


def exec_form(ins: Instruction) -> list[str]:
    """The argv of an exec-form CMD/ENTRYPOINT (AssertionError for the shell form)."""
    assert ins.exec_form and ins.value, f"not exec form: {ins.keyword} {ins.text}"
    return list(ins.value)


def copy_sources(ins: Instruction) -> tuple[list[str], str | None]:
    """(sources, the stage it copies from or None) of a COPY/ADD instruction."""
    stage = next((f.removeprefix("--from=") for f in ins.flags if f.startswith("--from=")),
                 None)
    return list(ins.value[:-1]), stage


def env_pairs(instructions: list[Instruction]) -> dict[str, str]:
    """ENV of the final stage."""
    last = max(i.stage for i in instructions)
    env: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword == "ENV" and ins.stage == last:
            env.update(zip(ins.value[::2], ins.value[1::2], strict=True))
    return env


def arg_defaults(instructions: list[Instruction]) -> dict[str, str]:
    """ARG NAME=default of the file (later stages win)."""
    found = {}
    for ins in instructions:
        if ins.keyword == "ARG":
            name, _, default = ins.value[0].partition("=")
            found[name] = default
    return found


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [ln.strip().strip("/") for ln in lines if ln.strip() and not ln.startswith("#")]


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether a context path is excluded (prefix and glob rules; `**/` matches any depth)."""
    parts = Path(path).parts
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            if fnmatch.fnmatch(prefix, pattern) or (
                pattern.startswith("**/") and fnmatch.fnmatch(parts[i - 1], bare)
            ):
                return True
    return False


# ------------------------------------------------------------------ compose


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


_DEFAULTED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


def interpolate(value: str) -> str:
    """Compose `${VAR:-default}` with nothing set in the environment: the default."""
    return _DEFAULTED.sub(lambda m: m.group(2) or "", str(value))


def duration_s(value: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", value):
        total += float(number) * units[unit]
    assert total > 0, f"not a duration: {value!r}"
    return total


# ------------------------------------------------------------------ settings


def settings_field_exists(env_name: str) -> bool:
    """Whether REPERTORY_A__B__C names a field of the settings tree (or is REDIS_URL/QDRANT_URL)."""
    from config.settings import ENV_PREFIX, Settings

    if env_name in {"REDIS_URL", "QDRANT_URL"}:
        return True
    if not env_name.startswith(ENV_PREFIX):
        return False
    model: type[BaseModel] | None = Settings
    for part in env_name.removeprefix(ENV_PREFIX).lower().split("__"):
        if model is None or part not in model.model_fields:
            return False
        annotation = model.model_fields[part].annotation
        model = annotation if isinstance(annotation, type) and issubclass(
            annotation, BaseModel) else None
    return True


# ------------------------------------------------------------------ commands


def check_command(argv: list[str]) -> str:
    """Fail unless argv is a command this repo really provides; returns what it runs."""
    program, args = Path(argv[0]).name, argv[1:]
    checks = {"repertory": _check_repertory, "dramatiq": _check_dramatiq,
              "uvicorn": _check_uvicorn}
    assert program in checks, f"unknown program {argv[0]!r}"
    return checks[program](args)


def _parse(parser, args: list[str]):  # noqa: ANN001, ANN202
    try:
        return parser.parse_args(args)
    except SystemExit as exc:  # argparse reports bad arguments by exiting
        raise AssertionError(f"{parser.prog} rejects {args}") from exc


def _check_repertory(args: list[str]) -> str:
    from config.settings import Settings
    from pools.definitions import pools
    from repertory_cli.main import build_parser

    ns = _parse(build_parser(), args)
    if ns.command == "worker":
        assert ns.pool in pools(Settings()), f"no pool {ns.pool!r}"
        return f"pool:{ns.pool}"
    return ns.command


def _check_dramatiq(args: list[str]) -> str:
    import importlib.util

    from dramatiq.cli import make_argument_parser

    from config.queues import ALL_QUEUES

    ns = _parse(make_argument_parser(), args)
    assert importlib.util.find_spec(ns.broker) is not None, f"no module {ns.broker!r}"
    assert ns.queues, "a worker should name its queues"
    unknown = set(ns.queues) - set(ALL_QUEUES)
    assert not unknown, f"unknown queues {unknown}"
    return "queues:" + ",".join(ns.queues)


def _check_uvicorn(args: list[str]) -> str:
    import importlib

    assert "--factory" in args, "create_app is a factory"
    target = next(a for a in args if ":" in a and not a.startswith("-"))
    module, _, attr = target.partition(":")
    assert callable(getattr(importlib.import_module(module), attr, None)), target
    return "api"
