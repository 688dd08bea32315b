"""Submit = one script: the job record, its indexes, its message and a wake-up, atomically.

A client never holds the id of a job that has no message, no message runs without a record,
and it costs one round trip: the record handed back is built here, not read back.
"""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq import Message

from config import queues as q
from pools.coalesce import Coalescer
from pools.jobs import JobStore, new_record
from pools.wakeup import CHANNEL_PREFIX

# KEYS: record, 4 index keys, children set ('' when none), queue's bodies, queue
# ARGV: job id, score, broker message id, body, wake channel, then field/value pairs
SUBMIT_LUA = """
local id, score = ARGV[1], ARGV[2]
redis.call('hset', KEYS[1], unpack(ARGV, 6))
for i = 2, 5 do redis.call('zadd', KEYS[i], score, id) end
if KEYS[6] ~= '' then redis.call('sadd', KEYS[6], id) end
redis.call('hset', KEYS[7], ARGV[3], ARGV[4])
redis.call('rpush', KEYS[8], ARGV[3])
redis.call('publish', ARGV[5], '')
"""

def submit_with_record(broker: dramatiq.Broker, store: JobStore, message: Message,
                       delay_ms: int | None, record: dict[str, Any]) -> dict[str, Any]:
    """Write the record and enqueue ``message`` in one step; the new record, decoded."""
    from pools.redis_broker import RepertoryBroker

    if not isinstance(broker, RepertoryBroker):  # another engine: record, then enqueue
        created = store.create(message.message_id, **record)
        broker.enqueue(message, delay=delay_ms)
        return created
    new, message, keys, args = _prepared(broker, message, delay_ms, record)
    broker.emit_before("enqueue", message, delay_ms)
    _script(store.redis)(keys=keys, args=args)
    broker.emit_after("enqueue", message, delay_ms)
    return new.decoded()


async def asubmit_with_record(broker: Any, client: Any, message: Message,
                              delay_ms: int | None, record: dict[str, Any]) -> dict[str, Any]:
    """``submit_with_record`` on an asyncio Redis client (``client``), for async routes."""
    new, message, keys, args = _prepared(broker, message, delay_ms, record)
    broker.emit_before("enqueue", message, delay_ms)
    await _coalescer(client).run(keys, args)
    broker.emit_after("enqueue", message, delay_ms)
    return new.decoded()


def _coalescer(client: Any) -> Coalescer:
    coalescer = getattr(client, "_repertory_coalescer", None)
    if coalescer is None:
        coalescer = client._repertory_coalescer = Coalescer(client, SUBMIT_LUA)
    return coalescer


def _prepared(broker: Any, message: Message, delay_ms: int | None,
              record: dict[str, Any]) -> tuple[Any, Message, list[str], list[Any]]:
    new = new_record(message.message_id, **record)
    queue_name, message = broker.prepare(message, delay_ms)
    full = f"{broker.namespace}:{queue_name}"
    keys = [q.job_key(message.message_id), *new.indexes, new.children_key or "",
            f"{full}.msgs", full]
    args: list[Any] = [message.message_id, new.score, message.options["redis_message_id"],
                       message.encode(), CHANNEL_PREFIX + queue_name]
    for name, value in new.fields.items():
        args += [name, value]
    return new, message, keys, args


def _script(client: Any) -> Any:
    """The submit script registered on ``client`` (sync or asyncio), once per client."""
    script = getattr(client, "_repertory_submit", None)
    if script is None:
        script = client._repertory_submit = client.register_script(SUBMIT_LUA)
    return script
