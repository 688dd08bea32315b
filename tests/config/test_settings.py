"""Settings: one tree from the environment, errors that name the variable, masked output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from config.settings import Settings, SettingsError, get_settings, masked_dump


def test_nested_values_come_from_prefixed_variables(monkeypatch):
    monkeypatch.setenv("REPERTORY_JOBS__MAX_RETRIES", "2")
    monkeypatch.setenv("REPERTORY_POOLS__CPU__THREADS", "9")
    settings = Settings()
    assert settings.jobs.max_retries == 2 and settings.pools.cpu.threads == 9


def test_plain_redis_url_is_accepted(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "rediss://:s3cret@cache.example.com:6380/2")
    settings = Settings()
    assert settings.redis.url_value() == "rediss://:s3cret@cache.example.com:6380/2"


def test_an_invalid_value_fails_with_a_message_naming_the_variable(monkeypatch):
    monkeypatch.setenv("REPERTORY_REDIS__HEARTBEAT_TIMEOUT_MS", "soon")
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match="REPERTORY_REDIS__HEARTBEAT_TIMEOUT_MS"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_repertory_config_prints_settings_with_the_password_masked():
    env = {"REDIS_URL": "redis://user:hunter2@db.example.com:6379/0", "PATH": "/usr/bin"}
    out = subprocess.run([sys.executable, "-m", "repertory_cli.main", "config"], env=env,
                         capture_output=True, text=True, check=True).stdout
    assert "hunter2" not in out
    data = json.loads(out)
    assert data["redis"]["url"] == "**********"
    assert data["jobs"]["max_retries"] == 5


def test_repertory_refuses_to_start_on_invalid_settings():
    env = {"REPERTORY_API__PORT": "99999", "PATH": "/usr/bin"}
    done = subprocess.run([sys.executable, "-m", "repertory_cli.main", "config"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "REPERTORY_API__PORT" in done.stderr


def test_urls_with_passwords_are_masked_anywhere_in_the_dump(monkeypatch):
    monkeypatch.setenv("QDRANT_URL", "https://admin:pa55@qdrant.example.com:6333")
    dumped = masked_dump(Settings())
    assert dumped["qdrant"]["url"] == "https://admin:**********@qdrant.example.com:6333"
    assert "pa55" not in json.dumps(dumped)
