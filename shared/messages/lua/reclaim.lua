-- RECLAIM: give a dead worker's in-flight entries back (attempts + 1), or dead-letter them.
-- KEYS[1] the dead worker's processing list, KEYS[2] queue list, KEYS[3] dead-letter index (zset),
-- KEYS[4] dead letters (hash), KEYS[5] stats hash, KEYS[6] pending hash, KEYS[7] this hour's history hash,
-- KEYS[8] dead-letter groups (hash), KEYS[9] each dead letter's group (hash)
-- ARGV[1] results prefix, ARGV[2] max attempts, ARGV[3] now (seconds), ARGV[4] record ttl,
-- ARGV[5] the requeued record, a string.format template from shared/messages/record.py: %d the attempts,
-- ARGV[6] the dead letter's record, a template too: %d the attempts, %s the envelope as JSON,
-- ARGV[7] history ttl, ARGV[8] the group set of the reason's dead letters, ARGV[9] the reason's signature
-- (helpers.lua, file_dead), ARGV[10] most entries to take in this call
-- Returns {requeued, dead-lettered, entries left in the list, '<id>:back|dead:<attempts>' for each entry, for
-- its timeline}: the caller calls again while some are
-- (each call takes the oldest ARGV[10], so a whole batch dying at once is several short calls).
-- An entry that is not an envelope (a raw LPUSH) is wrapped in one, with a new id.
local prefix, max_attempts, now, ttl = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local entries = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[10]) - 1)
if #entries == 0 then return {0, 0, 0, {}} end
redis.call('LTRIM', KEYS[1], #entries, -1)
local requeue, pending, buckets, died, ids = {}, {}, {}, 0, {}
for _, entry in ipairs(entries) do
  local id, attempts = envelope_head(entry)
  if not id then
    local clock = redis.call('TIME')
    id = new_id(tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000),
                redis.call('HINCRBY', KEYS[5], 'raw_seq', 1))
    entry = wrap(id, now, entry)
  end
  attempts = attempts + 1
  entry = with_attempts(entry, attempts)
  ids[#ids + 1] = id .. (attempts >= max_attempts and ':dead:' or ':back:') .. attempts
  local key = prefix .. id_minute(id)
  if attempts >= max_attempts then
    redis.call('HSET', KEYS[4], id, string.format(ARGV[6], attempts, cjson.encode(entry)))
    redis.call('ZADD', KEYS[3], math.floor(tonumber(now) * 1000), id)
    file_dead({groups = KEYS[8], group_of = KEYS[9]}, id, ARGV[8], ARGV[9], math.floor(tonumber(now) * 1000))
    redis.call('HDEL', KEYS[6], id)
    redis.call('HDEL', key, id)
    died = died + 1
  else
    requeue[#requeue + 1] = entry
    pending[#pending + 1] = id
    pending[#pending + 1] = ''
    local fields = buckets[key] or {}
    fields[#fields + 1] = id
    fields[#fields + 1] = string.format(ARGV[5], attempts)
    buckets[key] = fields
  end
end
if #requeue > 0 then
  redis.call('RPUSH', KEYS[2], unpack(requeue))
  redis.call('HSET', KEYS[6], unpack(pending))
  redis.call('HINCRBY', KEYS[5], 'reclaimed', #requeue)
end
for key, fields in pairs(buckets) do
  redis.call('HSET', key, unpack(fields))
  redis.call('EXPIRE', key, ttl)
end
if died > 0 then
  redis.call('HINCRBY', KEYS[5], 'dead', died)
  redis.call('HINCRBY', KEYS[7], math.floor(tonumber(now) / 60) .. ':dead', died)
  redis.call('EXPIRE', KEYS[7], tonumber(ARGV[7]))
end
return {#requeue, died, redis.call('LLEN', KEYS[1]), ids}
