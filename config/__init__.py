"""Settings for every part of repertory: one pydantic-settings tree, via ``get_settings()``."""

from config.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
