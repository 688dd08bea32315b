"""Schedule definitions and state in Redis.

* ``repertory:sched:defs`` — user schedules, name → JSON (code schedules live in code).
* ``repertory:sched:state:<name>`` — ``anchor_ms`` (when ticks count from), ``last_planned_ms``
  (the last tick handled, moved only by the fenced claim), ``paused``.
* ``repertory:sched:version`` — bumped on every change, so schedulers reload only then.

:class:`ScheduleStore` is the scheduler's (blocking client), :class:`AsyncScheduleStore` the
API's (asyncio client): async routes never block.
"""

from __future__ import annotations

import json
from typing import Any

from config.queues import PREFIX
from pools.scheduling.ledger import DEFS_KEY, UNSENT_KEY, run_data_key, runs_key, state_key
from pools.scheduling.model import Schedule

VERSION_KEY = f"{PREFIX}:sched:version"

# KEYS: defs, state, version. ARGV: name, json, limit, anchor ms → 1, 0 taken, -1 at the limit
CREATE_LUA = """
if redis.call('hexists', KEYS[1], ARGV[1]) == 1 then return 0 end
if redis.call('hlen', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
redis.call('del', KEYS[2])
redis.call('hset', KEYS[2], 'anchor_ms', ARGV[4])
redis.call('incr', KEYS[3])
return 1
"""

# KEYS: defs, state, runs, run data, version. ARGV: name → 1 deleted, 0 none
DELETE_LUA = """
if redis.call('hdel', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('del', KEYS[2], KEYS[3], KEYS[4])
redis.call('incr', KEYS[5])
return 1
"""

# KEYS: state, version, defs. ARGV: '1' pause / '0' resume, now ms, name ('' for code)
# Resuming moves last_planned to now: ticks while paused are not owed. → 1, 0 no such schedule
PAUSE_LUA = """
if ARGV[3] ~= '' and redis.call('hexists', KEYS[3], ARGV[3]) == 0 then return 0 end
redis.call('hset', KEYS[1], 'paused', ARGV[1])
if ARGV[1] == '0' then
  local last = tonumber(redis.call('hget', KEYS[1], 'last_planned_ms') or '-1')
  if last < tonumber(ARGV[2]) then redis.call('hset', KEYS[1], 'last_planned_ms', ARGV[2]) end
end
redis.call('incr', KEYS[2])
return 1
"""


def decode_state(raw: dict[bytes, bytes]) -> dict[str, Any]:
    text = {k.decode(): v.decode() for k, v in raw.items()}
    return {"anchor_ms": int(text["anchor_ms"]) if "anchor_ms" in text else None,
            "last_planned_ms": (int(text["last_planned_ms"]) if "last_planned_ms" in text
                                else None),
            "paused": text.get("paused") == "1"}


def decode_defs(raw: dict[bytes, bytes]) -> dict[str, Schedule]:
    found = {k.decode(): Schedule.model_validate_json(v) for k, v in raw.items()}
    return dict(sorted(found.items()))


def now_ms_of(time_reply: tuple[int, int]) -> int:
    seconds, micros = time_reply
    return int(seconds) * 1000 + int(micros) // 1000


class ScheduleStore:
    """The scheduler's view (blocking client)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def now_ms(self) -> int:
        """Redis's clock: every scheduler plans on the same time, whatever its host's."""
        return now_ms_of(self.client.time())

    def version(self) -> int:
        return int(self.client.get(VERSION_KEY) or 0)

    def user_schedules(self) -> dict[str, Schedule]:
        return decode_defs(self.client.hgetall(DEFS_KEY))

    def states(self, names: list[str]) -> dict[str, dict[str, Any]]:
        pipe = self.client.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(state_key(name))
        return {name: decode_state(raw) for name, raw in zip(names, pipe.execute(), strict=True)}

    def ensure_anchor(self, name: str, now_ms: int) -> int:
        """A code schedule counts its ticks from when a scheduler first saw it."""
        self.client.hsetnx(state_key(name), "anchor_ms", now_ms)
        return int(self.client.hget(state_key(name), "anchor_ms"))

    def unsent(self) -> list[tuple[str, str]]:
        members = [m.decode() for m in self.client.smembers(UNSENT_KEY)]
        return [tuple(m.split("\t", 1)) for m in members if "\t" in m]  # type: ignore[misc]

    def forget_unsent(self, name: str, run_id: str) -> None:
        self.client.srem(UNSENT_KEY, f"{name}\t{run_id}")

    def run(self, name: str, run_id: str) -> dict[str, Any] | None:
        raw = self.client.hget(run_data_key(name), run_id)
        return json.loads(raw) if raw else None


class AsyncScheduleStore:
    """The API's view (asyncio client)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._create = client.register_script(CREATE_LUA)
        self._delete = client.register_script(DELETE_LUA)
        self._pause = client.register_script(PAUSE_LUA)

    async def now_ms(self) -> int:
        return now_ms_of(await self.client.time())

    async def user_schedules(self) -> dict[str, Schedule]:
        return decode_defs(await self.client.hgetall(DEFS_KEY))

    async def user_schedule(self, name: str) -> Schedule | None:
        raw = await self.client.hget(DEFS_KEY, name)
        return Schedule.model_validate_json(raw) if raw else None

    async def states(self, names: list[str]) -> dict[str, dict[str, Any]]:
        pipe = self.client.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(state_key(name))
        return {name: decode_state(raw)
                for name, raw in zip(names, await pipe.execute(), strict=True)}

    async def create(self, schedule: Schedule, limit: int) -> int:
        return int(await self._create(
            keys=[DEFS_KEY, state_key(schedule.name), VERSION_KEY],
            args=[schedule.name, schedule.model_dump_json(), limit, schedule.created_ms]))

    async def delete(self, name: str) -> bool:
        return bool(await self._delete(
            keys=[DEFS_KEY, state_key(name), runs_key(name), run_data_key(name), VERSION_KEY],
            args=[name]))

    async def set_paused(self, name: str, paused: bool, now_ms: int, *, user: bool) -> bool:
        return bool(await self._pause(keys=[state_key(name), VERSION_KEY, DEFS_KEY],
                                      args=["1" if paused else "0", now_ms,
                                            name if user else ""]))
