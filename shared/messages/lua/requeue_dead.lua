-- REQUEUE_DEAD: put the dead letters with these ids back on the queue, attempts reset to 0 (and an
-- expired one's ttl_ms dropped: an operator who requeues it wants it run).
-- KEYS[1] dead-letter index (zset), KEYS[2] dead letters (hash), KEYS[3] queue list, KEYS[4] stats hash,
-- KEYS[5] pending hash, KEYS[6] dead-letter groups (hash), KEYS[7] each dead letter's group (hash)
-- ARGV[1] results prefix, ARGV[2] the queue's group prefix, then the ids (at most DEAD_CHUNK per call)
-- An id that is no longer dead (requeued by another call, deleted) is skipped: a call that is
-- interrupted and sent again moves nothing twice.
-- Returns the ids requeued (for their timelines).
local prefix = ARGV[1]
local filed, touched = {groups = KEYS[6], group_of = KEYS[7]}, {}
local moved = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local record = redis.call('HGET', KEYS[2], id)
  if record then
    local dead = cjson.decode(record)
    local envelope = dead.envelope
    if dead.error == 'expired' then envelope = without_ttl(envelope) end
    redis.call('LPUSH', KEYS[3], with_attempts(envelope, 0))
    redis.call('HDEL', KEYS[2], id)
    redis.call('ZREM', KEYS[1], id)
    unfile_dead(filed, ARGV[2], id, touched)
    -- Back to plain "queued": the pending hash says so, an old retry record goes.
    redis.call('HSET', KEYS[5], id, '')
    redis.call('HDEL', prefix .. id_minute(id), id)
    moved[#moved + 1] = id
  end
end
drop_empty_groups(filed, ARGV[2], touched)
if #moved > 0 then redis.call('HINCRBY', KEYS[4], 'revived', #moved) end
return moved
