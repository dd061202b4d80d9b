-- SETTLE: store a batch's records, route its failures (retry or dead letter), release it.
-- KEYS[1] the worker's processing list ('' in brpop mode), KEYS[2] queue list, KEYS[3] dead letters,
-- KEYS[4] stats hash, KEYS[5] the worker's hash, KEYS[6] this second's rate counter,
-- KEYS[7] recent results list, KEYS[8] pending set
-- ARGV[1] results prefix, ARGV[2] record ttl, ARGV[3] rate ttl, ARGV[4] reliable (1/0),
-- ARGV[5] entries settled, ARGV[6] first entry, ARGV[7] last entry, ARGV[8] done count,
-- then `done count` triples (bucket minute, id, record) sorted by minute, then groups of 5 for
-- the failures: bucket minute, id, record, envelope, action ('retry' or 'dead').
-- Records (shared/record.py) are built by the worker; the records of a minute's messages share
-- one hash, written with one HSET per minute.
-- Reliable mode: a worker settles in the order it took (newer batches sit behind, at the tail),
-- so the entries settled here are the head of its processing list. When the first and last do
-- not match, they were settled already (a retried call) or reaped: nothing is stored and -1 is
-- returned, so a message never gets a second result.
local prefix, ttl, rate_ttl, reliable = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == '1'
local count, done = tonumber(ARGV[5]), tonumber(ARGV[8])
if reliable then
  if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[6] or redis.call('LINDEX', KEYS[1], count - 1) ~= ARGV[7] then
    return {-1, 0, 0}
  end
  redis.call('LTRIM', KEYS[1], count, -1)
end
local settled, fields, bucket = {}, {}, nil
local function flush()
  if bucket then
    redis.call('HSET', prefix .. bucket, unpack(fields))
    redis.call('EXPIRE', prefix .. bucket, ttl)
  end
  fields = {}
end
local last_ok = 8 + 3 * done
for i = 9, last_ok, 3 do
  if ARGV[i] ~= bucket then
    flush()
    bucket = ARGV[i]
  end
  fields[#fields + 1] = ARGV[i + 1]
  fields[#fields + 1] = ARGV[i + 2]
  settled[#settled + 1] = ARGV[i + 1]
end
flush()
local retried, died = 0, 0
for i = last_ok + 1, #ARGV, 5 do
  local key, id, record, envelope = prefix .. ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  envelope = with_attempts(envelope, envelope_attempts(envelope) + 1)
  redis.call('HSET', key, id, record)
  redis.call('EXPIRE', key, ttl)
  if ARGV[i + 4] == 'dead' then
    redis.call('LPUSH', KEYS[3], envelope)
    settled[#settled + 1] = id
    died = died + 1
  else
    redis.call('LPUSH', KEYS[2], envelope)
    retried = retried + 1
  end
end
if #settled > 0 then redis.call('SREM', KEYS[8], unpack(settled)) end
if done > 0 then
  redis.call('HINCRBY', KEYS[4], 'done', done)
  if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('HINCRBY', KEYS[5], 'processed', done) end
  redis.call('INCRBY', KEYS[6], done)
  redis.call('EXPIRE', KEYS[6], rate_ttl)
  local recent = {}
  for i = math.max(9, last_ok - 59), last_ok, 3 do recent[#recent + 1] = ARGV[i + 1] end
  redis.call('LPUSH', KEYS[7], unpack(recent))
  redis.call('LTRIM', KEYS[7], 0, 49)
end
if retried + died > 0 then
  redis.call('HINCRBY', KEYS[4], 'failed', retried + died)
  if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('HINCRBY', KEYS[5], 'failed', retried + died) end
end
if died > 0 then redis.call('HINCRBY', KEYS[4], 'dead', died) end
return {done, retried, died}
