"""The real tools on the deployment files: hadolint, check-jsonschema with the Compose
Specification schema, pycep-parser. Each passes the files as they are and fails a broken copy
of them, so a check that stopped looking would show here."""

from __future__ import annotations

from pathlib import Path

import pytest
from deploy_checks import BICEP, COMPOSE, DOCKERFILES, ROOT
from deploy_tools import COMPOSE_SCHEMA, compose_schema_errors, hadolint, parse_bicep


def broken_copy(source: Path, tmp_path: Path, old: str, new: str) -> Path:
    """``source`` with ``old`` (which must occur) replaced by ``new``, beside the tests."""
    text = source.read_text()
    assert old in text, f"{source.name} no longer holds {old!r}: update this test"
    target = tmp_path / source.name
    target.write_text(text.replace(old, new, 1))
    return target


# ------------------------------------------------------------------ hadolint


@pytest.mark.parametrize("name", DOCKERFILES)
def test_hadolint_finds_nothing_in_the_dockerfiles(name: str) -> None:
    assert hadolint(ROOT / name) == []


DOCKERFILE_BREAKS = {
    # (file, what is there, what a careless edit makes of it, the rule that must fire)
    "shell-form CMD": ("Dockerfile.cpu", 'CMD ["uvicorn", "--factory", "api.main:create_app", '
                       '"--host", "0.0.0.0", "--port", "8000", "--no-access-log"]',
                       "CMD uvicorn --factory api.main:create_app", "DL3025"),
    "root at the end": ("Dockerfile.cpu", "USER ${APP_UID}:${APP_UID}", "USER root", "DL3002"),
    "an unpinned base": ("Dockerfile.cpu", "FROM ${PYTHON_IMAGE} AS runtime",
                         "FROM python:latest AS runtime", "DL3007"),
    "an untrusted registry": ("Dockerfile.gpu", "FROM ${CUDA_IMAGE} AS runtime",
                              "FROM nvcr.example.com/cuda:12.6 AS runtime", "DL3026"),
    "pip keeps its cache": ("Dockerfile.cpu", "ENV PIP_NO_CACHE_DIR=1 \\\n", "ENV ", "DL3042"),
    "apt recommends": ("Dockerfile.gpu", "apt-get install -y --no-install-recommends python3.11 "
                       "python3.11-venv", "apt-get install -y python3.11 python3.11-venv",
                       "DL3015"),
    "apt lists kept": ("Dockerfile.gpu", " && rm -rf /var/lib/apt/lists/* \\\n && groupadd",
                       " && groupadd", "DL3009"),
    "cd instead of WORKDIR": ("Dockerfile.cpu", "RUN python -m venv /opt/venv",
                              "RUN cd /opt && python -m venv /opt/venv", "DL3003"),
    "a syntax error": ("Dockerfile.gpu", "COPY actors ./actors", "COPY", "DL1000"),
    "an inline ignore": ("Dockerfile.cpu", "USER ${APP_UID}:${APP_UID}",
                         "# hadolint ignore=DL3002\nUSER root", "DL3002"),
}


@pytest.mark.parametrize("case", DOCKERFILE_BREAKS)
def test_hadolint_fails_a_broken_dockerfile(case: str, tmp_path: Path) -> None:
    name, old, new, rule = DOCKERFILE_BREAKS[case]
    findings = hadolint(broken_copy(ROOT / name, tmp_path, old, new))
    assert rule in {f["code"] for f in findings}, findings


def test_every_ignored_hadolint_rule_states_its_reason() -> None:
    import yaml

    config_text = (ROOT / ".hadolint.yaml").read_text()
    config = yaml.safe_load(config_text)
    assert config["failure-threshold"] == "style" and config["disable-ignore-pragma"] is True
    lines = config_text.splitlines()
    for rule in config.get("ignored", []):
        at = lines.index(f"  - {rule}")
        assert lines[at - 1].lstrip().startswith("#"), f"{rule} is ignored without a reason"


# ------------------------------------------------------------------ compose-spec schema


def test_the_compose_file_is_valid_against_the_compose_spec_schema() -> None:
    assert compose_schema_errors(COMPOSE) == ""


COMPOSE_BREAKS = {
    "a misspelt service key": ("    stop_grace_period: 15s\n    restart: unless-stopped\n\n"
                               "  worker-cpu:", "    stop_grace_periode: 15s\n"
                               "    restart: unless-stopped\n\n  worker-cpu:",
                               "stop_grace_periode"),
    "an unknown depends_on condition": ("  redis:\n    condition: service_healthy\n",
                                        "  redis:\n    condition: service_happy\n",
                                        "service_happy"),
    "capabilities not a list": ("capabilities: [gpu]", "capabilities: gpu", "capabilities"),
    "a healthcheck test as a number": ('test: ["CMD", "valkey-cli", "ping"]', "test: 1",
                                       "healthcheck.test"),
    "an unknown top-level key": ("volumes:\n  redis-data:", "volume:\n  redis-data:",
                                 "volume"),
}


@pytest.mark.parametrize("case", COMPOSE_BREAKS)
def test_check_jsonschema_fails_a_broken_compose_file(case: str, tmp_path: Path) -> None:
    old, new, named = COMPOSE_BREAKS[case]
    report = compose_schema_errors(broken_copy(COMPOSE, tmp_path, old, new))
    assert report and named in report, report


def test_the_vendored_schema_is_the_compose_spec_with_its_licence() -> None:
    import json

    schema = json.loads(COMPOSE_SCHEMA.read_text())
    assert schema["title"] == "Compose Specification"
    assert {"services", "volumes", "networks"} <= set(schema["properties"])
    licence = (COMPOSE_SCHEMA.parent / "LICENSE-compose-spec").read_text()
    assert "Apache License" in licence and "Version 2.0" in licence
    assert "compose-spec/compose-go" in (COMPOSE_SCHEMA.parent / "README.md").read_text()


# ------------------------------------------------------------------ Bicep


def test_pycep_parses_the_bicep_template() -> None:
    tree = parse_bicep(BICEP.read_text())
    assert {"apiApp", "cpuWorkerApp", "gpuWorkerApp"} <= set(tree["resources"])


BICEP_BREAKS = {
    "an unclosed object": ("    retentionInDays: 30\n  }\n}", "    retentionInDays: 30\n  }\n"),
    "a stray bracket": ("          command: [\n            'uvicorn'\n          ]",
                        "          command: [\n            'uvicorn'\n          ]]"),
    "an unclosed string": ("name: 'redis-url'", "name: 'redis-url"),
    "a property without a value": ("retentionInDays: 30", "retentionInDays:"),
    "a misspelt keyword": ("param location string", "parameter location string"),
    "a missing =": ("var appUid = '10001'", "var appUid '10001'"),
    "commas in a list": ("  'Consumption-GPU-NC8as-T4'\n", "  'Consumption-GPU-NC8as-T4',,\n"),
}


@pytest.mark.parametrize("case", BICEP_BREAKS)
def test_pycep_rejects_a_broken_bicep_template(case: str, tmp_path: Path) -> None:
    old, new = BICEP_BREAKS[case]
    broken = broken_copy(BICEP, tmp_path, old, new).read_text()
    with pytest.raises(Exception) as raised:  # lark's UnexpectedInput and its kin
        parse_bicep(broken)
    assert type(raised.value).__module__.startswith("lark"), raised.value
