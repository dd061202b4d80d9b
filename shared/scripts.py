"""The Lua scripts that keep each queue operation atomic and in one round trip.

Key names reach the scripts through KEYS or as a prefix in ARGV, both built by
`shared.keys`; no script spells a key of its own.
"""

# Shared Lua helpers: read an envelope's id and attempts, and rewrite the attempts.
_HELPERS = r"""
local function envelope_id(entry)
  return string.match(entry, '^{"id":"([^"]*)","attempts":%d+')
end
local function envelope_attempts(entry)
  return tonumber(string.match(entry, '^{"id":"[^"]*","attempts":(%d+)')) or 0
end
local function with_attempts(entry, attempts)
  return (string.gsub(entry, '^({"id":"[^"]*","attempts":)%d+', '%1' .. attempts, 1))
end
"""

# KEYS: queue, stats, pending set. ARGV: then id, envelope pairs.
# Only the ids are recorded (in the pending set): a message's status hash is written when it is
# settled, so enqueueing costs Redis about 1.7 µs a message instead of 7.
ENQUEUE = r"""
local ids, chunk, count = {}, {}, 0
for i = 1, #ARGV, 2 do
  ids[#ids + 1] = ARGV[i]
  chunk[#chunk + 1] = ARGV[i + 1]
  count = count + 1
  if #chunk == 1000 then
    redis.call('SADD', KEYS[3], unpack(ids))
    redis.call('LPUSH', KEYS[1], unpack(chunk))
    ids, chunk = {}, {}
  end
end
if #chunk > 0 then
  redis.call('SADD', KEYS[3], unpack(ids))
  redis.call('LPUSH', KEYS[1], unpack(chunk))
end
redis.call('HINCRBY', KEYS[2], 'enqueued', count)
return count
"""

# KEYS: queue, processing. ARGV: max count.
# Moves up to N of the oldest entries, oldest first, into the worker's processing list (which is
# what makes a message "processing": nothing is written per message). A redelivered entry
# (attempts > 0) is always taken alone, so that a message that kills its worker cannot drag the
# same batch-mates towards the dead letters again and again.
TAKE = _HELPERS + r"""
local items = redis.call('LRANGE', KEYS[1], -tonumber(ARGV[1]), -1)
local n = #items
if n == 0 then return items end
local ordered = {}
for i = n, 1, -1 do
  local retry = envelope_attempts(items[i]) > 0
  if retry and #ordered > 0 then break end
  ordered[#ordered + 1] = items[i]
  if retry then break end
end
redis.call('LTRIM', KEYS[1], 0, -#ordered - 1)
redis.call('RPUSH', KEYS[2], unpack(ordered))
return ordered
"""

# KEYS: processing ('' in brpop mode), queue, dead, stats, worker hash, rate key, recent, pending set.
# ARGV: message prefix, result ttl, now, worker, max attempts, rate ttl, reliable (1/0), count,
#       first entry, last entry, then `count` groups of 5: id, outcome (ok/err), payload, ms,
#       enqueued_at, then the envelope of each failed message, in order (to requeue or dead-letter it).
# Reliable mode: a worker settles in the order it took (newer batches sit behind, at the tail),
# so the entries settled here are the head of its processing list. When the first and last do not match, they
# were settled already (a retried call) or reaped: nothing is stored and -1 is returned, so a
# message never gets a second result.
SETTLE = _HELPERS + r"""
local prefix, ttl, now, worker = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local max_attempts, rate_ttl, reliable, count = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7] == '1', tonumber(ARGV[8])
if reliable then
  if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[9] or redis.call('LINDEX', KEYS[1], count - 1) ~= ARGV[10] then
    return {-1, 0, 0}
  end
  redis.call('LTRIM', KEYS[1], count, -1)
end
local done, retried, died, duplicates = 0, 0, 0, 0
local recent, settled = {}, {}
local failure = 11 + 5 * count
for i = 11, 10 + 5 * count, 5 do
  local id, outcome, payload, ms, enqueued = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local key = prefix .. id
  if outcome == 'ok' then
    settled[#settled + 1] = id
    -- HSET counts new fields: none means this message already had a result (a brpop redelivery).
    if redis.call('HSET', key, 'status', 'done', 'result', payload, 'worker', worker,
                  'finished_at', now, 'ms', ms, 'enqueued_at', enqueued) == 0 then
      redis.call('HINCRBY', key, 'duplicates', 1)
      duplicates = duplicates + 1
    end
    done = done + 1
    recent[#recent + 1] = id
  else
    local envelope = ARGV[failure]
    failure = failure + 1
    local attempts = envelope_attempts(envelope) + 1
    envelope = with_attempts(envelope, attempts)
    if attempts >= max_attempts then
      redis.call('LPUSH', KEYS[3], envelope)
      redis.call('HSET', key, 'status', 'dead', 'error', payload, 'worker', worker,
                 'attempts', attempts, 'finished_at', now, 'enqueued_at', enqueued)
      settled[#settled + 1] = id
      died = died + 1
    else
      redis.call('LPUSH', KEYS[2], envelope)
      redis.call('HSET', key, 'status', 'queued', 'error', payload, 'attempts', attempts, 'enqueued_at', enqueued)
      retried = retried + 1
    end
  end
  redis.call('EXPIRE', key, ttl)
end
if #settled > 0 then redis.call('SREM', KEYS[8], unpack(settled)) end
if done > 0 then
  redis.call('HINCRBY', KEYS[4], 'done', done)
  if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('HINCRBY', KEYS[5], 'processed', done) end
  redis.call('INCRBY', KEYS[6], done)
  redis.call('EXPIRE', KEYS[6], rate_ttl)
  local first = math.max(1, #recent - 19)
  redis.call('LPUSH', KEYS[7], unpack(recent, first, #recent))
  redis.call('LTRIM', KEYS[7], 0, 49)
end
if duplicates > 0 then redis.call('HINCRBY', KEYS[4], 'duplicates', duplicates) end
if retried + died > 0 then
  redis.call('HINCRBY', KEYS[4], 'failed', retried + died)
  if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('HINCRBY', KEYS[5], 'failed', retried + died) end
end
if died > 0 then redis.call('HINCRBY', KEYS[4], 'dead', died) end
return {done, retried, died}
"""

# KEYS: processing ('' in brpop mode), queue. ARGV: reliable (1/0), then entries in
# processing order. Puts unprocessed entries back at the consumer end of the queue.
GIVE_BACK = r"""
local count = 0
for i = #ARGV, 2, -1 do
  local entry = ARGV[i]
  local owned = 1
  if ARGV[1] == '1' then owned = redis.call('LREM', KEYS[1], 1, entry) end
  if owned == 1 then
    redis.call('RPUSH', KEYS[2], entry)
    count = count + 1
  end
end
return count
"""

# KEYS: processing of a dead worker, queue, dead, stats, pending set.
# ARGV: message prefix, max attempts, now, ttl, reason.
# Each entry goes back to the consumer end with attempts + 1, or to the dead letters.
RECLAIM = _HELPERS + r"""
local prefix, max_attempts, now, ttl, reason = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5]
local requeued, died = 0, 0
while true do
  local entry = redis.call('LPOP', KEYS[1])
  if not entry then break end
  local id = envelope_id(entry)
  if not id then
    id = 'raw-' .. redis.call('HINCRBY', KEYS[4], 'raw_seq', 1)
    entry = '{"id":"' .. id .. '","attempts":0,"enqueued_at":' .. now .. ',"body":' .. cjson.encode(entry) .. '}'
  end
  local attempts = envelope_attempts(entry) + 1
  entry = with_attempts(entry, attempts)
  local key = prefix .. id
  if attempts >= max_attempts then
    redis.call('LPUSH', KEYS[3], entry)
    redis.call('HSET', key, 'status', 'dead', 'error', reason, 'attempts', attempts, 'finished_at', now)
    redis.call('SREM', KEYS[5], id)
    died = died + 1
  else
    redis.call('RPUSH', KEYS[2], entry)
    redis.call('HSET', key, 'status', 'queued', 'error', reason, 'attempts', attempts)
    redis.call('SADD', KEYS[5], id)
    requeued = requeued + 1
  end
  redis.call('EXPIRE', key, ttl)
end
if requeued > 0 then redis.call('HINCRBY', KEYS[4], 'reclaimed', requeued) end
if died > 0 then redis.call('HINCRBY', KEYS[4], 'dead', died) end
return {requeued, died}
"""

# KEYS: dead, queue, stats, pending set. ARGV: message prefix, ttl, then ids (none = all).
# Dead letters go back to the end of the queue with attempts reset to 0.
REQUEUE_DEAD = _HELPERS + r"""
local prefix, ttl = ARGV[1], tonumber(ARGV[2])
local wanted = {}
for i = 3, #ARGV do wanted[ARGV[i]] = true end
local all = #ARGV < 3
local count = 0
local entries = redis.call('LRANGE', KEYS[1], 0, -1)
for i = #entries, 1, -1 do
  local entry = entries[i]
  local id = envelope_id(entry)
  if all or (id and wanted[id]) then
    redis.call('LREM', KEYS[1], 1, entry)
    redis.call('LPUSH', KEYS[2], with_attempts(entry, 0))
    if id then
      redis.call('HSET', prefix .. id, 'status', 'queued', 'attempts', 0)
      redis.call('HDEL', prefix .. id, 'error')
      redis.call('EXPIRE', prefix .. id, ttl)
      redis.call('SADD', KEYS[4], id)
    end
    count = count + 1
  end
end
if count > 0 then redis.call('HINCRBY', KEYS[3], 'revived', count) end
return count
"""
