"""The Lua scripts that keep each queue operation atomic and in one round trip.

Key names reach the scripts through KEYS or as a prefix in ARGV, both built by
`shared.keys`; no script spells a key of its own.
"""

# Shared Lua helpers: read an envelope's id and attempts, rewrite the attempts, and read or
# make ULIDs (a record's bucket is the minute its id was made in).
_HELPERS = r"""
local CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
local function id_minute(id)
  local ms = 0
  for i = 1, 10 do
    local v = string.find(CROCKFORD, string.sub(id, i, i), 1, true)
    if not v then return 0 end
    ms = ms * 32 + v - 1
  end
  return math.floor(ms / 60000)
end
local function new_id(ms, seq)
  local out = {}
  for i = 10, 1, -1 do
    local v = ms % 32
    out[i] = string.sub(CROCKFORD, v + 1, v + 1)
    ms = math.floor(ms / 32)
  end
  for i = 26, 11, -1 do
    local v = seq % 32
    out[i] = string.sub(CROCKFORD, v + 1, v + 1)
    seq = math.floor(seq / 32)
  end
  return table.concat(out)
end
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

# KEYS: queue, stats, pending set. ARGV: id, envelope pairs.
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
# ARGV: results prefix, record ttl, rate ttl, reliable (1/0), count, first entry, last entry, done count,
#       then `done count` triples (bucket minute, id, record), sorted by minute, then groups of 5
#       for the failures: bucket minute, id, record, envelope, action ('retry' or 'dead').
# A record is the message's status as JSON, built by the worker; the records of a minute's
# messages share one hash, written with one HSET per minute.
# Reliable mode: a worker settles in the order it took (newer batches sit behind, at the tail),
# so the entries settled here are the head of its processing list. When the first and last do not
# match, they were settled already (a retried call) or reaped: nothing is stored and -1 is
# returned, so a message never gets a second result.
SETTLE = _HELPERS + r"""
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
# ARGV: results prefix, max attempts, now, ttl, reason.
# Each entry goes back to the consumer end with attempts + 1, or to the dead letters.
RECLAIM = _HELPERS + r"""
local prefix, max_attempts, now, ttl, reason = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5]
local requeued, died = 0, 0
while true do
  local entry = redis.call('LPOP', KEYS[1])
  if not entry then break end
  local id = envelope_id(entry)
  if not id then
    local clock = redis.call('TIME')
    id = new_id(tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000),
                redis.call('HINCRBY', KEYS[4], 'raw_seq', 1))
    entry = '{"id":"' .. id .. '","attempts":0,"enqueued_at":' .. now .. ',"body":' .. cjson.encode(entry) .. '}'
  end
  local attempts = envelope_attempts(entry) + 1
  entry = with_attempts(entry, attempts)
  local status = 'queued'
  if attempts >= max_attempts then
    status = 'dead'
    redis.call('LPUSH', KEYS[3], entry)
    redis.call('SREM', KEYS[5], id)
    died = died + 1
  else
    redis.call('RPUSH', KEYS[2], entry)
    redis.call('SADD', KEYS[5], id)
    requeued = requeued + 1
  end
  local record = cjson.encode({status = status, error = reason, attempts = attempts, finished_at = tonumber(now)})
  local key = prefix .. id_minute(id)
  redis.call('HSET', key, id, record)
  redis.call('EXPIRE', key, ttl)
end
if requeued > 0 then redis.call('HINCRBY', KEYS[4], 'reclaimed', requeued) end
if died > 0 then redis.call('HINCRBY', KEYS[4], 'dead', died) end
return {requeued, died}
"""

# KEYS: dead, queue, stats, pending set. ARGV: results prefix, then ids (none = all).
# Dead letters go back to the end of the queue with attempts reset to 0.
REQUEUE_DEAD = _HELPERS + r"""
local prefix = ARGV[1]
local wanted = {}
for i = 2, #ARGV do wanted[ARGV[i]] = true end
local all = #ARGV < 2
local count = 0
local entries = redis.call('LRANGE', KEYS[1], 0, -1)
for i = #entries, 1, -1 do
  local entry = entries[i]
  local id = envelope_id(entry)
  if all or (id and wanted[id]) then
    redis.call('LREM', KEYS[1], 1, entry)
    redis.call('LPUSH', KEYS[2], with_attempts(entry, 0))
    if id then
      -- Back to plain "queued": the pending set says so, the old record goes.
      redis.call('HDEL', prefix .. id_minute(id), id)
      redis.call('SADD', KEYS[4], id)
    end
    count = count + 1
  end
end
if count > 0 then redis.call('HINCRBY', KEYS[3], 'revived', count) end
return count
"""
