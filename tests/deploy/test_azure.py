"""deploy/azure/main.bicep, read through pycep-parser's syntax tree (``bicep_tree.py``), held
against the code it deploys. That the template parses at all, and that a broken copy does not,
is in ``test_linters.py``."""

from __future__ import annotations

import pytest
from bicep_tree import (
    accessor_path,
    argv,
    condition,
    container,
    decorators,
    defaults,
    env_list,
    evaluate,
    function,
    keys,
    queue_rules,
    resource,
    scale_rules,
    template,
    uses,
    variable,
)
from deploy_checks import check_command, settings_field_exists

from config.queues import ALL_QUEUES
from config.settings import RedisSettings, Settings
from pools.definitions import pools

APPS = {"apiApp": "api", "cpuWorkerApp": "pool:cpu", "indexWorkerApp": "pool:index",
        "gpuWorkerApp": "queues:gpu-query,gpu", "schedulerApp": "scheduler"}
WORKER_APPS = ("cpuWorkerApp", "indexWorkerApp", "gpuWorkerApp")


def listed_queues(app: str) -> list[str]:
    namespace = RedisSettings().namespace
    names = [list_name for _, list_name, _ in queue_rules(app)]
    assert all(n.startswith(f"{namespace}:") for n in names), names
    return [n.removeprefix(f"{namespace}:") for n in names]


def test_the_use_counter_skips_keys_and_property_names_but_sees_interpolations() -> None:
    assert uses("namePrefix") >= 5  # '${namePrefix}-api', ...
    assert uses("delayedScaleMetadata") == 1  # union(delayedScaleMetadata, ...) once
    assert uses("customerId") == 0  # logs.properties.customerId: a property, no symbol
    assert uses("workloadProfileType") == 0  # only ever an object key


@pytest.mark.parametrize("kind", ["parameters", "variables"])
def test_every_param_and_var_is_used(kind: str) -> None:
    for name in template()[kind]:
        assert uses(name) > 0, f"{kind} {name} is never used"


def test_images_and_the_qdrant_url_are_parameters_without_defaults() -> None:
    for name in ("cpuImage", "gpuImage", "qdrantUrl"):
        assert name in template()["parameters"] and name not in defaults(), name


def test_secrets_are_secure_parameters() -> None:
    for name in ("registryPassword", "externalRedisPassword", "qdrantApiKey"):
        assert "secure" in decorators(name), name


def test_environment_sends_logs_to_log_analytics_as_json_lines() -> None:
    logs = resource("env")["properties"]["appLogsConfiguration"]
    assert logs["destination"] == "log-analytics"
    customer = logs["logAnalyticsConfiguration"]["customerId"]
    assert accessor_path(customer) == ["logs", "properties", "customerId"]
    assert template()["resources"]["logs"]["type"] == "Microsoft.OperationalInsights/workspaces"
    common = {e["name"]: e.get("value") for e in env_list("commonEnv")}
    assert common["REPERTORY_LOGGING__FORMAT"] == "json"


def test_every_app_runs_a_real_command() -> None:
    for app, expected in APPS.items():
        assert check_command(argv(app)) == expected, app


def test_api_has_external_ingress_and_probes_on_real_routes() -> None:
    from api.routes.health import router

    api = resource("apiApp")["properties"]
    ingress = api["configuration"]["ingress"]
    assert ingress["external"] is True and ingress["allowInsecure"] is False
    port = ingress["targetPort"]
    probes = {p["type"]: p["httpGet"] for p in container("apiApp")["probes"]}
    assert {t: g["path"] for t, g in probes.items()} == {"Liveness": "/healthz",
                                                         "Readiness": "/readyz"}
    assert all(g["port"] == port for g in probes.values())
    assert {g["path"] for g in probes.values()} <= {r.path for r in router.routes}
    assert api["template"]["scale"]["minReplicas"] >= 1
    args = argv("apiApp")
    assert args[args.index("--port") + 1] == str(port)


def test_workers_have_no_ingress() -> None:
    for app in (*WORKER_APPS, "schedulerApp"):
        assert "ingress" not in resource(app)["properties"]["configuration"], app


def test_keda_rules_scale_the_apps_that_consume_those_queues() -> None:
    settings = Settings()
    cpu, gpu = listed_queues("cpuWorkerApp"), listed_queues("gpuWorkerApp")
    assert {"solve", "scrape"} <= set(cpu) and "gpu" in gpu
    assert set(cpu) <= set(pools(settings)["cpu"].queues)
    assert set(listed_queues("indexWorkerApp")) <= set(pools(settings)["index"].queues)
    gpu_args = argv("gpuWorkerApp")
    consumed = gpu_args[gpu_args.index("--queues") + 1:gpu_args.index("--worker-shutdown-timeout")]
    for queue in gpu:
        assert queue.removesuffix(".DQ") in consumed and queue.removesuffix(".DQ") in ALL_QUEUES


def test_keda_rules_read_the_redis_address_and_password_from_secrets() -> None:
    secrets = {s["name"] for s in env_list("secrets")}
    rules = [rule for app in WORKER_APPS for rule in queue_rules(app)]
    assert len(rules) >= 4
    for metadata, _, auth in rules:
        assert auth == "redisScaleAuth"
        assert metadata in {"redisScaleMetadata", "delayedScaleMetadata"}
    refs = {a["triggerParameter"]: a["secretRef"] for a in variable("redisScaleAuth")}
    assert set(refs) == {"address", "password"}
    assert set(refs.values()) <= secrets, f"{set(refs.values()) - secrets} are not secrets"
    base, extra = function(variable("delayedScaleMetadata"), "union").values()
    assert base == "redisScaleMetadata" and int(extra["listLength"]) >= 100


def test_gpu_app_runs_on_a_gpu_workload_profile_and_scales_to_zero() -> None:
    gpu = resource("gpuWorkerApp")["properties"]
    assert gpu["workloadProfileName"] == "gpuProfileName"
    profiles = {p["name"]: p["workloadProfileType"]
                for p in resource("env")["properties"]["workloadProfiles"]}
    assert variable("gpuProfileName") and profiles["gpuProfileName"] == "gpuWorkloadProfileType"
    allowed = decorators("gpuWorkloadProfileType")["allowed"]
    assert defaults()["gpuWorkloadProfileType"] in allowed
    assert set(allowed) <= {"Consumption-GPU-NC8as-T4", "Consumption-GPU-NC24-A100"}
    assert set(allowed) <= keys(variable("gpuResources")), "every profile needs cpu/memory"
    assert gpu["template"]["scale"]["minReplicas"] == 0
    mounts = {m["mountPath"] for m in container("gpuWorkerApp")["volumeMounts"]
              if isinstance(m, dict)}
    assert "/models" in mounts
    env = {e["name"]: e.get("value") for e in env_list(container("gpuWorkerApp")["env"])}
    assert env["REPERTORY_CLIP__PRETRAINED"].startswith("/models/")


def test_redis_is_azure_cache_unless_an_external_host_is_given() -> None:
    assert function(variable("deployRedis"), "empty") == {"item_to_test": "externalRedisHost"}
    assert template()["resources"]["redisCache"]["type"] == "Microsoft.Cache/redis"
    assert condition("redisCache") == "deployRedis"
    assert resource("redisCache")["properties"]["enableNonSslPort"] is False
    # access keys are base64 ('/', '+'): escaped in the URL, or redis-py misreads the host
    url = variable("redisUrl")
    assert url.startswith("${redisScheme}://:${uriComponent(redisPassword)}@"), url


def test_app_settings_are_real_settings_and_blobs_live_on_azure_files() -> None:
    entries = [e for app in APPS for e in env_list(container(app)["env"])]
    for entry in entries:
        name = entry["name"]
        if name.startswith("REPERTORY_") or name.endswith("_URL"):
            assert settings_field_exists(name), f"{name} is not a setting"
    env = {e["name"]: e["value"] for e in entries if "value" in e}
    assert variable("blobsMount")["mountPath"] == env["REPERTORY_VAR_DIR"]
    assert env["REPERTORY_CLIP__IMAGES__BLOB_DIR"].startswith(env["REPERTORY_VAR_DIR"] + "/")
    assert variable("blobsVolume")["storageType"] == "AzureFile"


def test_workers_get_more_stop_time_than_the_dramatiq_shutdown_timeout() -> None:
    grace = variable("terminationGraceSeconds")
    limits = decorators("workerShutdownTimeoutMs")
    for timeout_ms in (defaults()["workerShutdownTimeoutMs"], limits["max_value"]):
        seconds = evaluate(grace, {"workerShutdownTimeoutMs": timeout_ms})
        # the supervisor waits timeout + 5 s before it kills a child; Container Apps allows 600
        assert timeout_ms / 1000 + 5 <= seconds <= 600, (timeout_ms, seconds)
    for app in WORKER_APPS:
        template_ = resource(app)["properties"]["template"]
        assert template_["terminationGracePeriodSeconds"] == "terminationGraceSeconds", app


def test_the_scheduler_is_one_replica_without_queue_rules() -> None:
    scale = resource("schedulerApp")["properties"]["template"]["scale"]
    assert (scale["minReplicas"], scale["maxReplicas"]) == (1, 1)
    assert not scale_rules("schedulerApp")
