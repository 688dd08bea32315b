"""Static readers for the deployment files: Dockerfiles, .dockerignore, compose, Bicep.

No Docker engine or Bicep compiler runs here, so the tests read the files themselves and check
them against the code they deploy (the CLI parser, the pools, the settings tree, the routes).
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILES = ("Dockerfile.cpu", "Dockerfile.gpu")
BICEP = ROOT / "deploy" / "azure" / "main.bicep"


# ------------------------------------------------------------------ Dockerfiles


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    stage: int  # index of the FROM stage it belongs to


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped."""
    out: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        out.append(Instruction(keyword, args.strip(), stage))
    assert not pending, "dangling line continuation at the end of the Dockerfile"
    return out


def read_dockerfile(name: str) -> list[Instruction]:
    return parse_dockerfile((ROOT / name).read_text())


def stage_names(instructions: list[Instruction]) -> list[str]:
    names = []
    for ins in instructions:
        if ins.keyword == "FROM":
            parts = ins.args.split()
            names.append(parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else "")
    return names


def exec_form(args: str) -> list[str]:
    """The JSON array of an exec-form CMD/ENTRYPOINT; AssertionError for the shell form."""
    assert args.startswith("["), f"not exec form: {args}"
    value = json.loads(args)
    assert isinstance(value, list) and value and all(isinstance(v, str) for v in value)
    return value


def copy_sources(ins: Instruction) -> tuple[list[str], bool]:
    """(sources, from_other_stage) of a COPY/ADD instruction."""
    words = shlex.split(ins.args)
    flags = [w for w in words if w.startswith("--")]
    paths = [w for w in words if not w.startswith("--")]
    return paths[:-1], any(f.startswith("--from=") for f in flags)


def env_pairs(instructions: list[Instruction]) -> dict[str, str]:
    """ENV KEY=VALUE pairs of the final stage."""
    last = max(i.stage for i in instructions)
    env: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword == "ENV" and ins.stage == last:
            for word in shlex.split(ins.args):
                key, _, value = word.partition("=")
                env[key] = value
    return env


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
              "periodiq": _check_periodiq, "uvicorn": _check_uvicorn}
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


def _check_periodiq(args: list[str]) -> str:
    import importlib.util

    import periodiq

    ns = _parse(periodiq.make_argument_parser(), args)
    assert importlib.util.find_spec(ns.broker) is not None, f"no module {ns.broker!r}"
    return "scheduler"


def _check_uvicorn(args: list[str]) -> str:
    import importlib

    assert "--factory" in args, "create_app is a factory"
    target = next(a for a in args if ":" in a and not a.startswith("-"))
    module, _, attr = target.partition(":")
    assert callable(getattr(importlib.import_module(module), attr, None)), target
    return "api"


# ------------------------------------------------------------------ Bicep


def strip_bicep(text: str, *, keep_strings: bool = False) -> str:
    """Bicep without comments (and, unless kept, with string contents blanked)."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else n
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
        elif text[i] == "'":
            j = i + 1
            while j < n and text[j] != "'":
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1] if keep_strings else "''")
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def unbalanced(text: str) -> str | None:
    """The first bracket problem in Bicep code, or None."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[tuple[str, int]] = []
    code = strip_bicep(text)
    for pos, ch in enumerate(code):
        if ch in "([{":
            stack.append((ch, pos))
        elif ch in pairs:
            if not stack or stack[-1][0] != pairs[ch]:
                return f"unexpected {ch!r} at offset {pos}"
            stack.pop()
    return f"unclosed {stack[-1][0]!r} at offset {stack[-1][1]}" if stack else None


def bicep_block(text: str, header: str) -> str:
    """The `{ ... }` body following the first line matching the regex `header`."""
    match = re.search(header, text, re.MULTILINE)
    assert match, f"no {header!r} in the template"
    start = text.index("{", match.end() - 1)
    depth = 0
    for pos in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[pos], 0)
        if depth == 0:
            return text[start:pos + 1]
    raise AssertionError(f"unclosed block after {header!r}")


def bicep_string_list(block: str, key: str) -> list[str]:
    """A `key: [ ... ]` array of string literals and string(param) calls, params resolved."""
    body = re.search(rf"\b{key}:\s*\[(.*?)\]", block, re.DOTALL)
    assert body, f"no {key} array"
    defaults = bicep_param_defaults(BICEP.read_text())
    items = []
    for item in body.group(1).split():
        if item.startswith("'"):
            items.append(item.strip("'"))
        else:
            call = re.fullmatch(r"string\((\w+)\)", item)
            assert call, f"cannot evaluate {item!r}"
            items.append(defaults[call.group(1)])
    return items


def bicep_param_defaults(text: str) -> dict[str, str]:
    found = re.findall(r"^param (\w+) \w+ = (.+)$", text, re.MULTILINE)
    return {name: value.strip().strip("'") for name, value in found}


def bicep_declared(text: str, kind: str) -> list[str]:
    return re.findall(rf"^{kind} (\w+)\b", text, re.MULTILINE)


def bicep_uses(text: str, name: str) -> int:
    """References to a symbol: not its declaration, not an object key of the same name."""
    code = strip_bicep(text, keep_strings=True)
    code = re.sub(rf"^(param|var|resource|output) {name}\b", "", code, flags=re.MULTILINE)
    return len(re.findall(rf"(?<![\w.'-]){name}\b(?!\s*:)", code))
