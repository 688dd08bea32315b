"""The run ledger: per schedule, a bounded list of runs (planned, sent, job id, how it went).

A leader records each tick with :data:`CLAIM_LUA` *before* it submits the job. The script checks,
in the same step, that the lease still carries the leader's fencing token, that the tick is later
than the last one handled (so no tick is sent twice, whoever leads), and that the schedule still
exists and is not paused; only then does it move the schedule's ``last_planned_ms`` and append
the run. The job is then submitted with an idempotency key made from the tick, and the run
marked ``sent`` with its job id. A run left ``claimed`` (the leader died between the two) is in
the ``unsent`` set: the next leader submits it again with the same key, which finds the job if
it was made.

Every method here is one round trip (a script), so the same class serves the scheduler's
blocking client and the API's asyncio client (whose calls return awaitables).
"""

from __future__ import annotations

import json
import time
from typing import Any

from config.queues import PREFIX
from pools.scheduling.lease import LEADER_KEY

UNSENT_KEY = f"{PREFIX}:sched:unsent"
FENCED_KEY = f"{PREFIX}:sched:fenced"  # sends refused for a stale token (a counter)
DEFS_KEY = f"{PREFIX}:sched:defs"


def state_key(name: str) -> str:
    return f"{PREFIX}:sched:state:{name}"


def runs_key(name: str) -> str:
    return f"{PREFIX}:sched:runs:{name}"


def run_data_key(name: str) -> str:
    return f"{PREFIX}:sched:run:{name}"


# Append a run (ARGV[1] id, ARGV[2] json) to KEYS[1] (ids, newest first) and KEYS[2] (id → json),
# keeping ARGV[3] runs.
_APPEND = """
local function append(ids, data, id, entry, keep)
  redis.call('lpush', ids, id)
  redis.call('hset', data, id, entry)
  local old = redis.call('lrange', ids, keep, -1)
  if #old > 0 then
    redis.call('ltrim', ids, 0, keep - 1)
    redis.call('hdel', data, unpack(old))
  end
end
"""

# KEYS: leader, state, runs, run data, unsent set, fenced counter, defs
# ARGV: token, planned ms, run id, entry json, keep, unsent member ('' none), user name ('' code),
#       the anchor the sender planned from ('' any: a schedule deleted and made again differs)
# → 1 recorded, 0 already handled, -1 fenced (not the leader), -2 deleted, -3 paused
CLAIM_LUA = _APPEND + """
local token = redis.call('hget', KEYS[1], 'token')
if (not token) or token ~= ARGV[1] then
  redis.call('incr', KEYS[6])
  return -1
end
if ARGV[7] ~= '' and redis.call('hexists', KEYS[7], ARGV[7]) == 0 then return -2 end
if ARGV[8] ~= '' and redis.call('hget', KEYS[2], 'anchor_ms') ~= ARGV[8] then return -2 end
if redis.call('hget', KEYS[2], 'paused') == '1' then return -3 end
local last = tonumber(redis.call('hget', KEYS[2], 'last_planned_ms') or '-1')
if last >= tonumber(ARGV[2]) then return 0 end
redis.call('hset', KEYS[2], 'last_planned_ms', ARGV[2])
append(KEYS[3], KEYS[4], ARGV[3], ARGV[4], tonumber(ARGV[5]))
if ARGV[6] ~= '' then redis.call('sadd', KEYS[5], ARGV[6]) end
return 1
"""

# KEYS: runs, run data. ARGV: id, entry json, keep.  (A run started by hand: no fence.)
RECORD_LUA = _APPEND + """
append(KEYS[1], KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[3]))
return 1
"""

# KEYS: run data, unsent set. ARGV: id, entry json, unsent member. Update a run still kept.
MARK_LUA = """
redis.call('srem', KEYS[2], ARGV[3])
if redis.call('hexists', KEYS[1], ARGV[1]) == 1 then
  redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
"""

# KEYS: runs, run data. ARGV: how many → the newest runs' json, newest first.
RUNS_LUA = """
local ids = redis.call('lrange', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #ids == 0 then return {} end
return redis.call('hmget', KEYS[2], unpack(ids))
"""


def new_run(planned_s: float, trigger: str, **fields: Any) -> dict[str, Any]:
    """A ledger entry. ``trigger``: tick, catch_up (run_once for missed ticks), manual."""
    planned_ms = round(planned_s * 1000)
    run_id = str(planned_ms) if trigger != "manual" else f"m{time.time_ns()}"
    return {"id": run_id, "planned": planned_s, "sent": None, "job_id": None,
            "trigger": trigger, "missed": 0, "state": "claimed", "error": None} | fields


def unsent_member(name: str, run_id: str) -> str:
    return f"{name}\t{run_id}"


class Ledger:
    def __init__(self, client: Any, keep: int) -> None:
        self.keep = keep
        self._claim = client.register_script(CLAIM_LUA)
        self._record = client.register_script(RECORD_LUA)
        self._mark = client.register_script(MARK_LUA)
        self._runs = client.register_script(RUNS_LUA)

    def claim(self, name: str, token: int, entry: dict[str, Any], *, user: bool,
              anchor_ms: int | None = None) -> Any:
        """Record a tick, fenced: 1 recorded, 0 handled already, -1 fenced, -2 gone, -3 paused."""
        planned_ms = round(entry["planned"] * 1000)
        unsent = unsent_member(name, entry["id"]) if entry["state"] == "claimed" else ""
        return self._claim(
            keys=[LEADER_KEY, state_key(name), runs_key(name), run_data_key(name), UNSENT_KEY,
                  FENCED_KEY, DEFS_KEY],
            args=[token, planned_ms, entry["id"], json.dumps(entry), self.keep, unsent,
                  name if user else "", "" if anchor_ms is None else anchor_ms])

    def record(self, name: str, entry: dict[str, Any]) -> Any:
        return self._record(keys=[runs_key(name), run_data_key(name)],
                            args=[entry["id"], json.dumps(entry), self.keep])

    def mark(self, name: str, entry: dict[str, Any]) -> Any:
        return self._mark(keys=[run_data_key(name), UNSENT_KEY],
                          args=[entry["id"], json.dumps(entry), unsent_member(name, entry["id"])])

    def runs(self, name: str, limit: int, client: Any = None) -> Any:
        """Raw newest-first entries (decode with :func:`decode_runs`); ``client``: a pipeline."""
        return self._runs(keys=[runs_key(name), run_data_key(name)], args=[limit],
                          client=client)


def decode_runs(raw: list[bytes | None]) -> list[dict[str, Any]]:
    return [json.loads(item) for item in raw if item]


def outcome(entry: dict[str, Any], job: dict[str, Any] | None) -> str:
    """How a run went: its job's status when it started one, else the run's own state."""
    if entry.get("job_id"):
        return job.get("status", "expired") if job is not None else "expired"
    return entry["state"]
