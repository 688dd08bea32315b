"""The leader lease: one scheduler at a time sends, with a fencing token.

Any number of schedulers call :meth:`LeaderLease.hold` every poll. The lease is one Redis hash
(holder, token, since) with a TTL: the holder extends it; anyone else gets it once it has
expired, and with it a new token from a counter that only grows. Every send is recorded by a
script that first checks the lease still carries the sender's token (``ledger.CLAIM_LUA``), so a
leader that was paused past its lease (a long GC pause, a stopped VM) and then wakes has its
late send refused: a standby holds the lease by then, with a higher token.

Celery beat's RedBeat and Hatchet's Postgres leases extend a lease the same way, but RedBeat
checks its lock only once per tick, not in the write that sends; periodiq and huey have no
election at all (run exactly one).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any

from config.queues import PREFIX

LEADER_KEY = f"{PREFIX}:sched:leader"
FENCE_KEY = f"{PREFIX}:sched:fence"

# KEYS: leader hash, fence counter. ARGV: holder, lease ms, now (s)
# → {token, ms left}: token 0 when another scheduler holds the lease.
ACQUIRE_LUA = """
local holder = redis.call('hget', KEYS[1], 'holder')
if holder == ARGV[1] then
  redis.call('pexpire', KEYS[1], ARGV[2])
  return {tonumber(redis.call('hget', KEYS[1], 'token')), tonumber(ARGV[2])}
end
if holder then return {0, redis.call('pttl', KEYS[1])} end
local token = redis.call('incr', KEYS[2])
redis.call('hset', KEYS[1], 'holder', ARGV[1], 'token', token, 'since', ARGV[3])
redis.call('pexpire', KEYS[1], ARGV[2])
return {token, tonumber(ARGV[2])}
"""

# KEYS: leader hash. ARGV: holder, token → 1 when released.
RELEASE_LUA = """
if redis.call('hget', KEYS[1], 'holder') == ARGV[1]
   and redis.call('hget', KEYS[1], 'token') == ARGV[2] then
  return redis.call('del', KEYS[1])
end
return 0
"""


def new_holder_id() -> str:
    """host:pid:random — unique per scheduler process, readable in the API."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Hold:
    token: int  # 0: another scheduler leads
    ms_left: int  # of the lease (ours after a renewal, theirs otherwise)

    @property
    def leading(self) -> bool:
        return self.token > 0


class LeaderLease:
    def __init__(self, client: Any, lease_ms: int, holder: str | None = None) -> None:
        self.client = client
        self.lease_ms = lease_ms
        self.holder = holder or new_holder_id()
        self._acquire = client.register_script(ACQUIRE_LUA)
        self._release = client.register_script(RELEASE_LUA)

    def hold(self) -> Hold:
        """Take the lease if it is free, extend it if it is ours."""
        token, left = self._acquire(keys=[LEADER_KEY, FENCE_KEY],
                                    args=[self.holder, self.lease_ms, f"{time.time():.3f}"])
        return Hold(int(token), max(0, int(left)))

    def release(self, token: int) -> bool:
        """Give the lease up (a clean stop), so a standby takes over at once."""
        return bool(self._release(keys=[LEADER_KEY], args=[self.holder, token]))


def read_leader(raw: dict[bytes, bytes]) -> dict[str, Any] | None:
    """The leader hash as the API shows it."""
    if not raw:
        return None
    text = {k.decode(): v.decode() for k, v in raw.items()}
    return {"holder": text.get("holder"), "token": int(text.get("token", 0)),
            "since": float(text.get("since", 0))}
