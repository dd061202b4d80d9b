-- RECLAIM: give a dead worker's in-flight entries back (attempts + 1), or dead-letter them.
-- KEYS[1] the dead worker's processing list, KEYS[2] queue list, KEYS[3] dead letters,
-- KEYS[4] stats hash, KEYS[5] pending set
-- ARGV[1] results prefix, ARGV[2] max attempts, ARGV[3] now (seconds), ARGV[4] record ttl,
-- ARGV[5] the record, a string.format template from shared/record.py: %s status, %d attempts
-- An entry that is not an envelope (a raw LPUSH) is wrapped in one, with a new id.
local prefix, max_attempts, now, ttl, template = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5]
local requeued, died = 0, 0
while true do
  local entry = redis.call('LPOP', KEYS[1])
  if not entry then break end
  local id = envelope_id(entry)
  if not id then
    local clock = redis.call('TIME')
    id = new_id(tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000),
                redis.call('HINCRBY', KEYS[4], 'raw_seq', 1))
    entry = wrap(id, now, entry)
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
  local key = prefix .. id_minute(id)
  redis.call('HSET', key, id, string.format(template, status, attempts))
  redis.call('EXPIRE', key, ttl)
end
if requeued > 0 then redis.call('HINCRBY', KEYS[4], 'reclaimed', requeued) end
if died > 0 then redis.call('HINCRBY', KEYS[4], 'dead', died) end
return {requeued, died}
