"""Static checks of deploy/azure/main.bicep (no Bicep compiler here: the tests read the text)."""

from __future__ import annotations

import re

import pytest
from deploy_checks import (
    BICEP,
    bicep_block,
    bicep_declared,
    bicep_param_defaults,
    bicep_string_list,
    bicep_uses,
    check_command,
    settings_field_exists,
    strip_bicep,
    unbalanced,
)

from config.queues import ALL_QUEUES
from config.settings import RedisSettings, Settings
from pools.definitions import pools

APPS = {"apiApp": "api", "cpuWorkerApp": "pool:cpu", "indexWorkerApp": "pool:index",
        "gpuWorkerApp": "queues:gpu-query,gpu", "schedulerApp": "scheduler"}


@pytest.fixture(scope="module")
def text() -> str:
    return BICEP.read_text()


def app_block(text: str, symbol: str) -> str:
    return bicep_block(text, rf"^resource {symbol} 'Microsoft\.App/containerApps@[\w-]+' =")


def declaration(text: str, name: str) -> str:
    """A top-level declaration up to the next one."""
    start = re.search(rf"^(var|param|resource) {name}\b", text, re.M).start()
    rest = re.search(r"^(var|param|resource|output|//) ", text[start + 1:], re.M)
    return text[start:start + 1 + rest.start()] if rest else text[start:]


def listed_queues(block: str) -> list[str]:
    namespace = RedisSettings().namespace
    return re.findall(rf"listName: '{namespace}:([\w.]+)'", block)


def test_the_bracket_checker_finds_unbalanced_code_but_ignores_strings_and_comments() -> None:
    assert unbalanced("var a = { b: [ 'x}' ] } // ]") is None
    assert unbalanced("var a = { b: [ 1 }") is not None
    assert unbalanced("var a = (1") is not None


def test_braces_brackets_and_parentheses_balance(text: str) -> None:
    assert unbalanced(text) is None


def test_strings_are_closed_on_their_line(text: str) -> None:
    code = strip_bicep(text.replace("'''", ""), keep_strings=False)
    for number, line in enumerate(code.splitlines(), 1):
        assert line.count("'") % 2 == 0, f"line {number}: {line}"


def test_every_param_and_var_is_used(text: str) -> None:
    for kind in ("param", "var"):
        for name in bicep_declared(text, kind):
            assert bicep_uses(text, name) > 0, f"{kind} {name} is never used"


def test_the_use_counter_ignores_declarations_and_object_keys() -> None:
    assert bicep_uses("param location string\nvar x = {\n  location: 'y'\n}\n", "location") == 0
    assert bicep_uses("param location string\nvar x = {\n  location: location\n}\n",
                      "location") == 1


def test_images_and_the_qdrant_url_are_parameters_without_defaults(text: str) -> None:
    declared = set(bicep_declared(text, "param"))
    defaults = bicep_param_defaults(text)
    for name in ("cpuImage", "gpuImage", "qdrantUrl"):
        assert name in declared and name not in defaults, name


def test_secrets_are_secure_parameters(text: str) -> None:
    for name in ("registryPassword", "externalRedisPassword", "qdrantApiKey"):
        assert re.search(rf"@secure\(\)\s*\nparam {name} string", text), name


def test_environment_sends_logs_to_log_analytics(text: str) -> None:
    env = bicep_block(text, r"^resource env 'Microsoft\.App/managedEnvironments@")
    assert "destination: 'log-analytics'" in env
    assert "logs.properties.customerId" in env
    assert re.search(r"^resource logs 'Microsoft\.OperationalInsights/workspaces@", text, re.M)


def test_every_app_runs_a_real_command(text: str) -> None:
    for symbol, expected in APPS.items():
        block = app_block(text, symbol)
        argv = bicep_string_list(block, "command") + bicep_string_list(block, "args")
        assert check_command(argv) == expected, symbol


def test_api_has_external_ingress_and_probes_on_real_routes(text: str) -> None:
    from api.routes.health import router

    api = app_block(text, "apiApp")
    ingress = bicep_block(api, r"ingress:")
    assert "external: true" in ingress
    port = re.search(r"targetPort: (\d+)", ingress).group(1)
    probes = dict(re.findall(r"type: '(\w+)'\s*httpGet: \{\s*path: '([^']+)'\s*port: " + port,
                             api))
    assert probes == {"Liveness": "/healthz", "Readiness": "/readyz"}
    assert set(probes.values()) <= {r.path for r in router.routes}
    assert re.search(r"minReplicas: ([1-9]\d*)", api)
    args = bicep_string_list(api, "args")
    assert args[args.index("--port") + 1] == port


def test_workers_have_no_ingress(text: str) -> None:
    for symbol in ("cpuWorkerApp", "indexWorkerApp", "gpuWorkerApp", "schedulerApp"):
        assert "ingress" not in app_block(text, symbol), symbol


def test_keda_rules_scale_the_apps_that_consume_those_queues(text: str) -> None:
    settings = Settings()
    cpu = listed_queues(app_block(text, "cpuWorkerApp"))
    gpu = listed_queues(app_block(text, "gpuWorkerApp"))
    assert {"solve", "scrape"} <= set(cpu)
    assert "gpu" in gpu
    assert set(cpu) <= set(pools(settings)["cpu"].queues)
    gpu_args = bicep_string_list(app_block(text, "gpuWorkerApp"), "args")
    consumed = gpu_args[gpu_args.index("--queues") + 1:]
    for queue in gpu:
        assert queue.removesuffix(".DQ") in consumed and queue.removesuffix(".DQ") in ALL_QUEUES


def test_keda_rules_read_the_redis_address_and_password_from_secrets(text: str) -> None:
    secrets = set(re.findall(r"name: '([\w-]+)'\s*value:", declaration(text, "secrets")))
    rules = re.findall(r"custom: \{\s*type: '(\w+)'\s*metadata: union\((\w+),.*?auth: (\w+)",
                       text, re.DOTALL)
    assert len(rules) >= 3
    for scaler, metadata, auth_var in rules:
        assert (scaler, auth_var) == ("redis", "redisScaleAuth")
        assert metadata in {"redisScaleMetadata", "delayedScaleMetadata"}
    refs = dict(re.findall(r"secretRef: '([\w-]+)'\s*triggerParameter: '(\w+)'",
                           declaration(text, "redisScaleAuth")))
    assert set(refs.values()) == {"address", "password"}
    assert set(refs) <= secrets, f"{set(refs) - secrets} are not secrets"


def test_gpu_app_runs_on_a_gpu_workload_profile_and_scales_to_zero(text: str) -> None:
    gpu = app_block(text, "gpuWorkerApp")
    profile_var = re.search(r"workloadProfileName: (\w+)", gpu).group(1)
    profile_name = re.search(rf"^var {profile_var} = '(\w+)'", text, re.M).group(1)
    env = bicep_block(text, r"^resource env 'Microsoft\.App/managedEnvironments@")
    profile_type = re.search(rf"name: {profile_var}\s*workloadProfileType: (\w+)", env).group(1)
    allowed = re.findall(r"'(Consumption-GPU-[\w-]+)'",
                         text[:text.index(f"param {profile_type} ")].rsplit("@allowed", 1)[1])
    assert bicep_param_defaults(text)[profile_type] in allowed
    assert all(a in {"Consumption-GPU-NC8as-T4", "Consumption-GPU-NC24-A100"} for a in allowed)
    assert profile_name and re.search(r"minReplicas: 0\b", gpu)
    assert "/models/" in gpu and "storageName: modelsStorage.name" in gpu


def test_redis_is_azure_cache_unless_an_external_host_is_given(text: str) -> None:
    assert re.search(r"^var deployRedis = empty\(externalRedisHost\)$", text, re.M)
    assert re.search(r"^resource redisCache 'Microsoft\.Cache/redis@[\w-]+' = if \(deployRedis\)",
                     text, re.M)
    cache = bicep_block(text, r"^resource redisCache ")
    assert "enableNonSslPort: false" in cache
    # access keys are base64 ('/', '+'): escaped in the URL, or redis-py misreads the host
    url = re.search(r"^var redisUrl = '(.*)'$", text, re.M).group(1)
    assert url.startswith("${redisScheme}://:${uriComponent(redisPassword)}@"), url


def test_app_settings_are_real_settings_and_blobs_live_on_azure_files(text: str) -> None:
    names = re.findall(r"name: '([A-Z][A-Z0-9_]+)'", text)
    for name in names:
        if name.startswith("REPERTORY_") or name.endswith("_URL"):
            assert settings_field_exists(name), f"{name} is not a setting"
    env = dict(re.findall(r"name: '(REPERTORY_[A-Z_]+)'\s*value: '([^']*)'", text))
    mount = bicep_block(text, r"^var blobsMount = ")
    assert f"mountPath: '{env['REPERTORY_VAR_DIR']}'" in mount
    assert env["REPERTORY_CLIP__IMAGES__BLOB_DIR"].startswith(env["REPERTORY_VAR_DIR"] + "/")
    assert "storageType: 'AzureFile'" in bicep_block(text, r"^var blobsVolume = ")


def test_workers_get_more_stop_time_than_the_dramatiq_shutdown_timeout(text: str) -> None:
    grace = re.search(r"^var terminationGraceSeconds = workerShutdownTimeoutMs / 1000 \+ (\d+)$",
                      text, re.M)
    assert grace and int(grace.group(1)) >= 5
    maximum = int(re.search(r"@maxValue\((\d+)\)\s*\nparam workerShutdownTimeoutMs", text)[1])
    assert maximum / 1000 + int(grace.group(1)) <= 600  # Container Apps' upper bound
    for symbol in ("cpuWorkerApp", "indexWorkerApp", "gpuWorkerApp"):
        assert "terminationGracePeriodSeconds: terminationGraceSeconds" in app_block(text, symbol)
