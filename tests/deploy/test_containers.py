"""Static checks of Dockerfile.cpu, Dockerfile.gpu, .dockerignore and docker-compose.yml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from deploy_checks import (
    DOCKERFILES,
    ROOT,
    arg_defaults,
    check_command,
    copy_sources,
    dockerignore_patterns,
    dockerignored,
    duration_s,
    env_pairs,
    exec_form,
    interpolate,
    load_compose,
    parse_dockerfile,
    read_dockerfile,
    settings_field_exists,
    stage_names,
)

from config.settings import Settings

APP_SERVICES = ("api", "worker-cpu", "worker-gpu", "worker-index", "scheduler")
WORKERS = ("worker-cpu", "worker-gpu", "worker-index")


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose()


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def service_env(service: dict) -> dict[str, str]:
    return {k: interpolate(v) for k, v in (service.get("environment") or {}).items()}


# ------------------------------------------------------------------ Dockerfiles


def test_buildkits_parser_joins_continuations_and_the_reader_numbers_stages() -> None:
    text = ('FROM a AS build\n# note\nRUN x \\\n    && y\n'
            'FROM b\nCOPY --from=build /o /o\nCMD ["z"]\n')
    parsed = parse_dockerfile(text)
    assert [(i.keyword, i.stage) for i in parsed] == [("FROM", 0), ("RUN", 0), ("FROM", 1),
                                                       ("COPY", 1), ("CMD", 1)]
    assert parsed[1].text.split() == ["x", "&&", "y"] and stage_names(parsed) == ["build", ""]
    assert copy_sources(parsed[3]) == (["/o"], "build")
    assert exec_form(parsed[4]) == ["z"]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_is_multi_stage_and_the_runtime_copies_from_a_build_stage(name: str) -> None:
    instructions = read_dockerfile(name)
    names = stage_names(instructions)
    assert len(names) >= 2, "expected a build stage and a runtime stage"
    last = len(names) - 1
    copied = {copy_sources(i)[1] for i in instructions if i.keyword == "COPY" and i.stage == last}
    copied.discard(None)
    assert copied, "the runtime stage copies nothing from a build stage"
    assert copied <= set(names[:last]), f"COPY --from names unknown stages {copied}"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_runs_as_a_non_root_numeric_user(name: str) -> None:
    instructions = read_dockerfile(name)
    last = max(i.stage for i in instructions)
    users = [i.text for i in instructions if i.keyword == "USER" and i.stage == last]
    assert users, "the runtime stage never switches user"
    args = arg_defaults(instructions)
    user = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], users[-1]).split(":")[0]
    assert user.isdigit() and int(user) != 0, users[-1]
    runs = " ".join(i.text for i in instructions if i.keyword == "RUN" and i.stage == last)
    assert "useradd --system --uid ${APP_UID}" in runs, "the uid exists in /etc/passwd too"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_every_pip_install_uses_the_constraints_file(name: str) -> None:
    instructions = read_dockerfile(name)
    installs = [seg for i in instructions if i.keyword == "RUN"
                for seg in re.split(r"&&|;", i.text) if re.search(r"\bpip install\b", seg)]
    assert installs, "no pip install found"
    for segment in installs:
        assert "-c constraints.txt" in segment, segment
    copied = [src for i in instructions if i.keyword == "COPY" for src in copy_sources(i)[0]]
    assert "constraints.txt" in copied


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dependencies_are_installed_before_the_source_is_copied(name: str) -> None:
    instructions = read_dockerfile(name)
    build = [i for i in instructions if i.stage == 0]
    dep_install = next(n for n, i in enumerate(build)
                       if i.keyword == "RUN" and re.search(r"pip install .*-r ", i.text))
    for ins in build[:dep_install]:
        if ins.keyword in {"COPY", "ADD"}:
            sources, _ = copy_sources(ins)
            assert set(sources) <= {"constraints.txt", "pyproject.toml"}, (
                f"{ins.text!r} before the dependency layer invalidates its cache")


@pytest.mark.parametrize("name", DOCKERFILES)
def test_every_copied_file_exists_and_is_not_dockerignored(name: str) -> None:
    patterns = dockerignore_patterns()
    for ins in read_dockerfile(name):
        if ins.keyword not in {"COPY", "ADD"}:
            continue
        sources, from_stage = copy_sources(ins)
        if from_stage:
            continue
        for source in sources:
            assert (ROOT / source).exists(), f"{name}: COPY {source} but it is not in the repo"
            assert not dockerignored(source, patterns), f"{name}: {source} is dockerignored"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_cmd_and_entrypoint_are_in_exec_form_and_run_real_commands(name: str) -> None:
    instructions = read_dockerfile(name)
    cmds = [i for i in instructions if i.keyword in {"CMD", "ENTRYPOINT"}]
    assert cmds
    for ins in cmds:
        exec_form(ins)
    check_command(exec_form(cmds[-1]))


@pytest.mark.parametrize("name", DOCKERFILES)
def test_image_environment_is_accepted_by_the_settings_tree(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    env = env_pairs(read_dockerfile(name))
    assert env.get("HF_HUB_OFFLINE") == "1"
    for key, value in env.items():
        if key.startswith("REPERTORY_"):
            assert settings_field_exists(key), f"{key} is not a setting"
            monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.var_dir == Path(env["REPERTORY_VAR_DIR"])
    assert settings.clip.images.blob_dir.is_relative_to(settings.var_dir)
    assert settings.logging.format == "json", "containers log JSON lines for the log store"


def test_cpu_image_healthcheck_probes_the_api_liveness_route() -> None:
    from api.routes.health import router

    instructions = read_dockerfile("Dockerfile.cpu")
    check = next(i for i in instructions if i.keyword == "HEALTHCHECK")
    assert check.exec_form and check.value[0] == "CMD"
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/\w+)", " ".join(check.value[1:]))
    assert url and url.group(2) == "/healthz"
    assert url.group(2) in {r.path for r in router.routes}
    exposed = {i.text for i in instructions if i.keyword == "EXPOSE"}
    assert url.group(1) in exposed
    cmd = exec_form(next(i for i in reversed(instructions) if i.keyword == "CMD"))
    assert cmd[cmd.index("--port") + 1] == url.group(1)
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"


def test_cpu_image_takes_torch_from_the_cpu_wheel_index_and_gpu_image_does_not() -> None:
    def runs(name: str) -> str:
        return " ".join(i.text for i in read_dockerfile(name) if i.keyword == "RUN")

    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in runs("Dockerfile.cpu")
    assert "whl/cpu" not in runs("Dockerfile.gpu")
    base = read_dockerfile("Dockerfile.cpu")[0]
    assert base.keyword == "ARG" and base.value == ("PYTHON_IMAGE=python:3.11-slim",)


def test_gpu_image_is_cuda_based_and_loads_weights_from_a_mounted_volume() -> None:
    instructions = read_dockerfile("Dockerfile.gpu")
    base = arg_defaults(instructions)["CUDA_IMAGE"]
    assert re.fullmatch(r"nvidia/cuda:12\.\d+(\.\d+)?-cudnn-runtime-ubuntu22\.04", base)
    assert any("python3.11" in i.text for i in instructions if i.keyword == "RUN")
    env = env_pairs(instructions)
    assert env["NVIDIA_VISIBLE_DEVICES"] == "all"
    assert "compute" in env["NVIDIA_DRIVER_CAPABILITIES"].split(",")
    volumes = {v for i in instructions if i.keyword == "VOLUME" for v in exec_form(i)}
    checkpoint = Path(env["REPERTORY_CLIP__PRETRAINED"])
    assert any(checkpoint.is_relative_to(v) for v in volumes), "checkpoint not on a volume"
    runs = " ".join(i.text for i in instructions if i.keyword == "RUN").lower()
    for fetch in ("huggingface", "hf_hub", "wget ", "curl ", "open_clip.create_model"):
        assert fetch not in runs, f"the build must not fetch model weights ({fetch})"
    assert check_command(exec_form(instructions[-1])) == "queues:gpu-query,gpu"


def test_dockerignore_keeps_the_venv_var_and_git_out_of_the_context() -> None:
    patterns = dockerignore_patterns()
    for path in (".venv/bin/python", "var/valkey/appendonly.aof", ".git/HEAD",
                 "actors/__pycache__/x.pyc"):
        assert dockerignored(path, patterns), path
    for path in ("actors/__init__.py", "pyproject.toml", "constraints.txt"):
        assert not dockerignored(path, patterns), path


# ------------------------------------------------------------------ compose


def test_compose_defines_the_platform_services(services: dict) -> None:
    assert {"redis", "qdrant", *APP_SERVICES} <= set(services)


def test_redis_is_valkey_with_append_only_on_a_volume_and_a_ping_healthcheck(
        services: dict) -> None:
    redis = services["redis"]
    assert redis["image"].startswith("valkey/valkey:8")
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    data_dir = command[command.index("--dir") + 1]
    assert any(v.split(":")[1] == data_dir for v in redis["volumes"])
    assert "ping" in redis["healthcheck"]["test"]


def test_qdrant_keeps_its_storage_on_a_volume_and_checks_readiness_without_curl(
        services: dict) -> None:
    qdrant = services["qdrant"]
    assert qdrant["image"].startswith("qdrant/qdrant:")
    assert any(v.endswith(":/qdrant/storage") for v in qdrant["volumes"])
    test = " ".join(qdrant["healthcheck"]["test"])
    assert "/readyz" in test and "/dev/tcp/" in test
    assert "curl" not in test and "wget" not in test  # neither is in the qdrant image


def test_app_services_wait_for_healthy_stores(services: dict) -> None:
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["redis"]["condition"] == "service_healthy", name
        for dep, rule in depends.items():
            assert rule["condition"] == "service_healthy"
            assert "test" in services[dep]["healthcheck"], f"{name} waits on {dep}"
    for name in ("api", *WORKERS):
        assert "qdrant" in services[name]["depends_on"], name


def test_every_command_the_compose_file_runs_exists(services: dict) -> None:
    ran = {name: check_command(services[name]["command"]) for name in APP_SERVICES}
    assert ran == {"api": "api", "worker-cpu": "pool:cpu", "worker-gpu": "pool:gpu",
                   "worker-index": "pool:index", "scheduler": "scheduler"}


def test_compose_environment_is_accepted_by_the_settings_tree(
        services: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in APP_SERVICES:
        env = service_env(services[name])
        with monkeypatch.context() as m:
            for key, value in env.items():
                if key.startswith("REPERTORY_"):
                    assert settings_field_exists(key), f"{name}: {key} is not a setting"
                m.setenv(key, value)
            settings = Settings()
        assert settings.redis.url_value() == "redis://redis:6379/0", name
        assert settings.qdrant.mode == "server" and settings.qdrant.url == "http://qdrant:6333"
        assert settings.redis.maintenance_chance >= 10_000, "production maintenance rate"
        assert settings.logging.format == "json", name


def test_app_services_share_the_blobs_volume_at_the_var_dir(compose: dict,
                                                            services: dict) -> None:
    assert "blobs" in compose["volumes"]
    for name in APP_SERVICES:
        env = service_env(services[name])
        mounts = dict(v.split(":")[:2] for v in services[name]["volumes"])
        assert mounts.get("blobs") == env["REPERTORY_VAR_DIR"], name
        assert Path(env["REPERTORY_CLIP__IMAGES__BLOB_DIR"]).is_relative_to(
            env["REPERTORY_VAR_DIR"])
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/", "$")):
                assert source in compose["volumes"], f"undeclared volume {source}"


def test_workers_get_more_stop_time_than_the_dramatiq_shutdown_timeout(services: dict) -> None:
    default_ms = Settings().pools.shutdown_timeout_ms
    for name in WORKERS:
        env = service_env(services[name])
        timeout_s = int(env.get("REPERTORY_POOLS__SHUTDOWN_TIMEOUT_MS", default_ms)) / 1000
        # the supervisor waits timeout + 5 s before it kills a child
        assert duration_s(services[name]["stop_grace_period"]) >= timeout_s + 5, name


def test_long_running_services_restart(services: dict) -> None:
    for name, service in services.items():
        assert service.get("restart") in {"unless-stopped", "always", "on-failure"}, name


def test_gpu_worker_reserves_nvidia_gpus_under_the_gpu_profile_only(services: dict) -> None:
    gpu = services["worker-gpu"]
    assert gpu["profiles"] == ["gpu"]
    assert gpu["build"]["dockerfile"] == "Dockerfile.gpu"
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)
    assert any(v.endswith(":/models:ro") for v in gpu["volumes"])
    assert Path(service_env(gpu)["REPERTORY_CLIP__PRETRAINED"]).is_relative_to("/models")
    others = [n for n, s in services.items() if n != "worker-gpu" and "profiles" in s]
    assert not others, f"{others} would not start with a plain `docker compose up`"


def test_cpu_services_build_from_the_cpu_dockerfile_and_only_the_api_publishes_a_port(
        services: dict) -> None:
    for name in ("api", "worker-cpu", "worker-index", "scheduler"):
        assert services[name]["build"]["dockerfile"] == "Dockerfile.cpu", name
    published = [n for n, s in services.items() if s.get("ports")]
    assert published == ["api"]
    assert interpolate(services["api"]["ports"][0]).endswith(":8000")


def test_api_healthcheck_probes_the_readiness_route(services: dict) -> None:
    from api.routes.health import router

    test = " ".join(services["api"]["healthcheck"]["test"])
    path = re.search(r"http://127\.0\.0\.1:8000(/\w+)", test).group(1)
    assert path == "/readyz" and path in {r.path for r in router.routes}


@pytest.mark.parametrize("name", DOCKERFILES)
def test_the_dependency_layer_installs_extras_that_pyproject_defines(name: str) -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runs = " ".join(i.text for i in read_dockerfile(name) if i.keyword == "RUN")
    extras = re.findall(r"\['optional-dependencies'\]\['(\w+)'\]", runs)
    assert set(extras) == {"gpu", "scrape"}
    assert set(extras) <= set(project["optional-dependencies"])
