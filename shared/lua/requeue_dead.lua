-- REQUEUE_DEAD: put dead letters (all, or those with the given ids) back on the queue, attempts 0.
-- KEYS[1] dead letters, KEYS[2] queue list, KEYS[3] stats hash, KEYS[4] pending set
-- ARGV[1] results prefix, then the ids (none: all)
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
