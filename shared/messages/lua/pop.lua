-- POP: RPOP up to N entries (at-most-once delivery, the handout's loop in batches) and claim them.
-- KEYS[1] queue list, KEYS[2] pending hash, KEYS[3] stats hash (raw_seq), KEYS[4] the pause flag
-- ARGV[1] most entries to pop, ARGV[2] the worker's name, ARGV[3] now (seconds)
-- Returns the entries (claimed: see helpers.lua), or false when the queue is paused.
if redis.call('EXISTS', KEYS[4]) == 1 then return false end
local popped = redis.call('RPOP', KEYS[1], tonumber(ARGV[1]))
if not popped then return {} end
return (claim(popped, KEYS[2], KEYS[3], ARGV[2], ARGV[3]))
