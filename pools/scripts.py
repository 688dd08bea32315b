"""The job store's Lua, generated around the lifecycle table (``pools.lifecycle``).

``TRANSITION_LUA``: one move of one record, checked against the table, with its indexes, its
TTL and its batch parent's counters and status, in one atomic step. With three keys it also
acknowledges the message (Dramatiq's ``ack``: out of the worker's unacked set, its body gone),
so a finished job's outcome and its ack are one step.

Every applied move is also appended to the job's timeline (``<job key>:events``, a list of
JSON entries, the newest ``EVENTS_KEPT``; it expires with the record): the event, both states,
the time, the attempt, and the fields named in ``LOGGED`` plus any ``log_*`` argument (kept in
the timeline only, e.g. a failure's traceback).
"""

from __future__ import annotations

from pools import lifecycle as lc

EVENTS_KEPT = 50
#: Record fields a move sets that its timeline entry repeats.
LOGGED = ("worker", "error_type", "error_message")

TRANSITION_LUA = lc.lua_table() + f"local EVENTS_KEPT = {EVENTS_KEPT}\n" + (
    "local LOGGED = {" + ", ".join(f"{f} = true" for f in LOGGED) + "}\n") + r"""
local key, prefix, event, now, ttl = KEYS[1], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])

local function log_event(k, entry, from, to)
  local ek = k .. ':events'
  if redis.call('rpush', ek, cjson.encode(entry)) > EVENTS_KEPT then
    redis.call('ltrim', ek, -EVENTS_KEPT, -1)
  end
  if TERMINAL[to] then redis.call('expire', ek, ttl)
  elseif TERMINAL[from] then redis.call('persist', ek) end
end

local function move_job()
  local move = EVENT(event)
  local unset = {}  -- fields to remove, read first so that only those present are deleted
  for i = 6, #ARGV, 2 do
    if ARGV[i + 1] == '\0' and string.sub(ARGV[i], 1, 4) ~= 'log_' then
      unset[#unset + 1] = ARGV[i]
    end
  end
  local cur = redis.call('hmget', key, 'status', 'cancel_requested', 'error_type', 'id', 'kind',
                         'score', 'parent_id', 'attempts', unpack(unset))
  local old = cur[1]
  if not old then return {-1, '', '', event, {}} end
  if move.if_cancelled ~= '' and cur[2] == '1' then
    event = move.if_cancelled
    move = EVENT(event)
  end
  if not move.from[old] then return {0, old, '', event, {}} end
  local new = move.to
  local old_etype = cur[3] or ''

  local function reindex(k, from, to, id, kind, score)
    if from == to then return end
    redis.call('zrem', prefix .. ':jobs:status:' .. from, id)
    redis.call('zrem', prefix .. ':jobs:kind:' .. kind .. ':status:' .. from, id)
    redis.call('zadd', prefix .. ':jobs:status:' .. to, score, id)
    redis.call('zadd', prefix .. ':jobs:kind:' .. kind .. ':status:' .. to, score, id)
    if TERMINAL[to] then redis.call('expire', k, ttl)
    elseif TERMINAL[from] then redis.call('persist', k) end
  end

  local set = {'status', new, 'updated_at', now}
  local attempt = tonumber(cur[8] or '0') + (move.attempt and 1 or 0)
  if move.attempt then set[#set + 1] = 'attempts'; set[#set + 1] = attempt end
  local entry = {event = event, from = old, to = new, at = tonumber(now), attempt = attempt}
  for i = 6, #ARGV, 2 do
    local name = ARGV[i]
    if string.sub(name, 1, 4) == 'log_' then entry[string.sub(name, 5)] = ARGV[i + 1]
    elseif ARGV[i + 1] ~= '\0' then
      set[#set + 1] = name; set[#set + 1] = ARGV[i + 1]
      if LOGGED[name] then entry[name] = ARGV[i + 1] end
    end
  end
  local present = {}
  for i, name in ipairs(unset) do
    if cur[8 + i] then present[#present + 1] = name end
  end
  if #present > 0 then redis.call('hdel', key, unpack(present)) end
  redis.call('hset', key, unpack(set))
  reindex(key, old, new, cur[4], cur[5], cur[6])
  log_event(key, entry, old, new)

  local parent = cur[7]
  local function reply(pevent)
    if TERMINAL[new] then
      return {1, old, pevent, event, redis.call('hmget', key, unpack(SUMMARY()))}
    end
    return {1, old, pevent, event, {}}
  end
  if not parent or parent == '' then return reply('') end
  local pkey = prefix .. ':job:' .. parent
  local pstatus = redis.call('hget', pkey, 'status')
  if not pstatus then return reply('') end
  local new_etype = redis.call('hget', key, 'error_type') or ''
  if TERMINAL[old] and old ~= new then
    redis.call('hincrby', pkey, 'children_' .. old, -1)
    redis.call('hincrby', pkey, 'children_done', -1)
    if old ~= 'succeeded' and old_etype ~= '' then
      if redis.call('hincrby', pkey, 'errors_' .. old_etype, -1) <= 0 then
        redis.call('hdel', pkey, 'errors_' .. old_etype)
      end
    end
  end
  if TERMINAL[new] and old ~= new then
    redis.call('hincrby', pkey, 'children_' .. new, 1)
    redis.call('hincrby', pkey, 'children_done', 1)
    if new ~= 'succeeded' and new_etype ~= '' then
      redis.call('hincrby', pkey, 'errors_' .. new_etype, 1)
    end
  end

  local pevent = ''
  local done = tonumber(redis.call('hget', pkey, 'children_done') or '0')
  local total = tonumber(redis.call('hget', pkey, 'children_total') or '0')
  if TERMINAL[new] and done >= total then
    local ok = tonumber(redis.call('hget', pkey, 'children_succeeded') or '0')
    if redis.call('hget', pkey, 'cancel_requested') == '1' then pevent = 'settle_cancelled'
    elseif ok > 0 then pevent = 'settle_ok' else pevent = 'settle_failed' end
  elseif TERMINAL[old] and not TERMINAL[new] then pevent = 'reopen'
  elseif new == 'running' then pevent = 'open' end
  local pmove = pevent ~= '' and EVENT(pevent)
  if not pmove or not pmove.from[pstatus] then return reply('') end
  local pnew = pmove.to
  redis.call('hset', pkey, 'status', pnew, 'updated_at', now)
  if TERMINAL[pnew] then
    redis.call('hset', pkey, 'finished_at', now)
    if pnew == 'failed' then
      redis.call('hset', pkey, 'error_type', 'children', 'error_message', 'every child job failed')
    end
  else
    redis.call('hdel', pkey, 'finished_at', 'error_type', 'error_message')
    if pevent == 'open' then redis.call('hset', pkey, 'started_at', now) end
  end
  local p = redis.call('hmget', pkey, 'id', 'kind', 'score')
  reindex(pkey, pstatus, pnew, p[1], p[2], p[3])
  log_event(pkey, {event = pevent, from = pstatus, to = pnew, at = tonumber(now),
                   child = cur[4]}, pstatus, pnew)
  return reply(pevent)
end

local result = move_job()
if #KEYS == 3 and ARGV[5] ~= '' then
  if redis.call('srem', KEYS[2], ARGV[5]) > 0 then redis.call('hdel', KEYS[3], ARGV[5]) end
end
return result
"""
