-- DROP_DEAD: delete dead letters for good (DELETE /api/dead/<id>, a purge, a group's delete).
-- KEYS[1] dead-letter index (zset), KEYS[2] dead letters (hash), KEYS[3] dead-letter groups (hash),
-- KEYS[4] each dead letter's group (hash)
-- ARGV[1] the queue's group prefix, then the ids (at most DEAD_CHUNK per call)
-- Returns the ids that were dead letters (for their timelines); an id that is not (deleted or requeued
-- meanwhile) is skipped.
local filed, touched = {groups = KEYS[3], group_of = KEYS[4]}, {}
local dropped = {}
for i = 2, #ARGV do
  if redis.call('HDEL', KEYS[2], ARGV[i]) == 1 then
    redis.call('ZREM', KEYS[1], ARGV[i])
    unfile_dead(filed, ARGV[1], ARGV[i], touched)
    dropped[#dropped + 1] = ARGV[i]
  end
end
drop_empty_groups(filed, ARGV[1], touched)
return dropped
