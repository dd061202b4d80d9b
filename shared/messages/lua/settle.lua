-- SETTLE: store a batch's records, route its failures (retry or dead letter), release it.
-- KEYS[1] the worker's processing list (unused in brpop mode), KEYS[2] queue list, KEYS[3] dead-letter index
-- (zset: id -> when it died, ms), KEYS[4] dead letters (hash: id -> record with the envelope),
-- KEYS[5] stats hash, KEYS[6] the worker's hash (counted only while it exists: a reaped worker
-- leaves no ghost), KEYS[7] this minute's rate hash (field: the second),
-- KEYS[8] recent results list, KEYS[9] pending hash, KEYS[10] this hour's history hash (fields: <minute>:done...),
-- KEYS[11] scheduled set (zset: id -> due, ms) and KEYS[12] scheduled envelopes (hash): a retry that
-- waits its backoff goes there, due when ARGV says; KEYS[13] dead-letter groups (hash: group -> signature),
-- KEYS[14] each dead letter's group (hash: id -> group)
-- ARGV[1] results prefix, ARGV[2] record ttl, ARGV[3] rate ttl, ARGV[4] reliable (1/0),
-- ARGV[5] entries settled, ARGV[6] first entry, ARGV[7] last entry, ARGV[8] done count, ARGV[9] now (ms),
-- ARGV[10] history ttl, then `done count` triples (bucket minute, id, record) sorted by minute, then
-- groups of 8 for the failures: bucket minute, id, record, envelope (attempts already counted),
-- action ('retry', 'dead', or 'expired': a dead letter that never ran), when a retry is due (ms;
-- 0: at once, back on the queue), and for a dead letter its group's set and the error's signature
-- (helpers.lua, file_dead; '' for a retry).
-- Records (shared/messages/record.py) are built by the worker; the records of a minute's messages share
-- one hash, written with one HSET per minute. A dead letter's record holds its envelope.
-- Reliable mode: a worker settles in the order it took (newer batches sit behind, at the tail),
-- so the entries settled here are the head of its processing list. When the first and last do
-- not match, they were settled already (a retried call) or reaped: nothing is stored and -1 is
-- returned, so a message never gets a second result.
local prefix, ttl, rate_ttl, reliable = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == '1'
local count, done, now = tonumber(ARGV[5]), tonumber(ARGV[8]), tonumber(ARGV[9])
local second, minute = tostring(math.floor(now / 1000)), tostring(math.floor(now / 60000))
if reliable then
  if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[6] or redis.call('LINDEX', KEYS[1], count - 1) ~= ARGV[7] then
    return {-1, 0, 0}
  end
  redis.call('LTRIM', KEYS[1], count, -1)
end
local released, fields, bucket = {}, {}, nil
local function flush()
  if bucket then
    redis.call('HSET', prefix .. bucket, unpack(fields))
    redis.call('EXPIRE', prefix .. bucket, ttl)
  end
  fields = {}
end
local last_ok = 10 + 3 * done
for i = 11, last_ok, 3 do
  if ARGV[i] ~= bucket then
    flush()
    bucket = ARGV[i]
  end
  fields[#fields + 1] = ARGV[i + 1]
  fields[#fields + 1] = ARGV[i + 2]
  released[#released + 1] = ARGV[i + 1]
end
flush()
local retried, died, expired = 0, 0, 0
local routes = {queue = KEYS[2], dead_index = KEYS[3], dead = KEYS[4], pending = KEYS[9], scheduled = KEYS[11],
                envelopes = KEYS[12], groups = KEYS[13], group_of = KEYS[14]}
for i = last_ok + 1, #ARGV, 8 do
  local id, action = ARGV[i + 1], ARGV[i + 4]
  local dead = action == 'dead' or action == 'expired'
  route_failure(routes, prefix .. ARGV[i], ttl, now, id, ARGV[i + 2], ARGV[i + 3], dead, ARGV[i + 5], ARGV[i + 6],
                ARGV[i + 7])
  if dead then
    released[#released + 1] = id
    if action == 'expired' then expired = expired + 1 else died = died + 1 end
  else
    retried = retried + 1
  end
end
if #released > 0 then redis.call('HDEL', KEYS[9], unpack(released)) end
if done > 0 then
  redis.call('HINCRBY', KEYS[5], 'done', done)
  if redis.call('EXISTS', KEYS[6]) == 1 then redis.call('HINCRBY', KEYS[6], 'processed', done) end
  redis.call('HINCRBY', KEYS[7], second, done)
  redis.call('EXPIRE', KEYS[7], rate_ttl)
  redis.call('HINCRBY', KEYS[10], minute .. ':done', done)
  local recent = {}
  for i = math.max(11, last_ok - 59), last_ok, 3 do recent[#recent + 1] = ARGV[i + 1] end
  redis.call('LPUSH', KEYS[8], unpack(recent))
  redis.call('LTRIM', KEYS[8], 0, 49)
end
if retried > 0 then redis.call('HINCRBY', KEYS[5], 'retried', retried) end
if expired > 0 then
  redis.call('HINCRBY', KEYS[5], 'expired', expired)
  redis.call('HINCRBY', KEYS[10], minute .. ':dead', expired)
end
if retried + died > 0 then
  redis.call('HINCRBY', KEYS[5], 'failed', retried + died)
  if redis.call('EXISTS', KEYS[6]) == 1 then redis.call('HINCRBY', KEYS[6], 'failed', retried + died) end
  redis.call('HINCRBY', KEYS[10], minute .. ':failed', retried + died)
end
if died > 0 then
  redis.call('HINCRBY', KEYS[5], 'dead', died)
  redis.call('HINCRBY', KEYS[10], minute .. ':dead', died)
end
redis.call('EXPIRE', KEYS[10], tonumber(ARGV[10]))
return {done, retried, died + expired}
