"""The logging settings: format and level from the environment, errors naming the variable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from config.settings import Settings, SettingsError, get_settings


def test_format_and_level_come_from_prefixed_variables_in_any_case(monkeypatch):
    monkeypatch.setenv("REPERTORY_LOGGING__FORMAT", "JSON")
    monkeypatch.setenv("REPERTORY_LOGGING__LEVEL", "warning")
    settings = Settings()
    assert (settings.logging.format, settings.logging.level) == ("json", "WARNING")


def test_the_default_is_human_lines_at_info():
    settings = Settings()
    assert (settings.logging.format, settings.logging.level) == ("human", "INFO")


@pytest.mark.parametrize(("name", "value"), [("REPERTORY_LOGGING__FORMAT", "yaml"),
                                             ("REPERTORY_LOGGING__LEVEL", "chatty")])
def test_an_unknown_format_or_level_fails_with_a_message_naming_the_variable(
        monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match=name) as raised:
            get_settings()
        assert value in str(raised.value).lower()  # what was given, as the checks saw it
    finally:
        get_settings.cache_clear()


def test_repertory_refuses_to_start_on_an_unknown_log_format():
    env = {"REPERTORY_LOGGING__FORMAT": "xml", "PATH": "/usr/bin"}
    done = subprocess.run([sys.executable, "-m", "repertory_cli.main", "config"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "REPERTORY_LOGGING__FORMAT" in done.stderr and "'human' or 'json'" in done.stderr
