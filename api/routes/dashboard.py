"""The dashboard's pages (see ``api.dashboard``), included with the other routers."""

from __future__ import annotations

from api.dashboard import router

__all__ = ["router"]
