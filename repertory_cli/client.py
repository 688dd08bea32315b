"""A small HTTP client for the CLI's submit-and-wait commands."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

TERMINAL = {"succeeded", "failed", "dead", "cancelled"}


class ApiError(RuntimeError):
    pass


class Client:
    def __init__(self, base_url: str, timeout: float = 30.0, token: str | None = None) -> None:
        if token is None:
            from config.settings import get_settings

            secret = get_settings().api.token
            token = secret.get_secret_value() if secret else None
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base_url, timeout=timeout, headers=headers)

    def post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.http.post(path, **kwargs)
        if response.status_code >= 400:
            raise ApiError(f"{response.status_code}: {response.json().get('error')}")
        return response.json()

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.http.get(path, **kwargs)
        if response.status_code >= 400:
            raise ApiError(f"{response.status_code}: {response.json().get('error')}")
        return response.json()

    def wait(self, job_id: str, on_update: Callable[[dict[str, Any]], None],
             interval: float = 0.5) -> dict[str, Any]:
        while True:
            job = self.get(f"/v1/jobs/{job_id}")
            on_update(job)
            if job["status"] in TERMINAL:
                return job
            time.sleep(interval)
