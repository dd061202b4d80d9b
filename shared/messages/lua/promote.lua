-- PROMOTE: move the scheduled messages that are due onto the queue list, the earliest first.
-- KEYS[1] scheduled set (zset: id -> due, ms), KEYS[2] queue list, KEYS[3] pending hash,
-- KEYS[4] scheduled envelopes (hash: id -> envelope), KEYS[5] the queue's high list, KEYS[6] its low list,
-- KEYS[7] its bell
-- ARGV[1] now (ms), ARGV[2] most messages to move in this call
-- Returns {moved, the next due time in ms or -1 when nothing is scheduled, the ids moved (for their
-- timelines)}. Each call moves a
-- bounded step (ZRANGEBYSCORE with LIMIT, then ZREM/HDEL/LPUSH/HSET of that many), so Redis is
-- never held long however many are due; the caller calls again while a whole step moved. Atomic:
-- two workers promoting at once never move one message twice, and a worker killed between calls
-- leaves every message either scheduled or queued. They join the queue at the producers' end,
-- behind what already waits, the earliest due nearest the consumers; a message sent with a priority
-- joins its list (helpers.lua, push_by_priority).
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local moved, ids = 0, {}
if #due > 0 then
  local envelopes = redis.call('HMGET', KEYS[4], unpack(due))
  redis.call('ZREM', KEYS[1], unpack(due))
  redis.call('HDEL', KEYS[4], unpack(due))
  local entries, released = {}, {}
  for i, id in ipairs(due) do
    if envelopes[i] then
      entries[#entries + 1] = envelopes[i]
      released[#released + 1] = id
      released[#released + 1] = ''
      ids[#ids + 1] = id
    end
  end
  if #entries > 0 then
    push_by_priority({main = KEYS[2], high = KEYS[5], low = KEYS[6]}, entries)
    ring(KEYS[7])
    redis.call('HSET', KEYS[3], unpack(released))
  end
  moved = #entries
end
local next_due = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {moved, next_due[2] and tonumber(next_due[2]) or -1, ids}
