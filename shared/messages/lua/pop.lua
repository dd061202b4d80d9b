-- POP: RPOP up to N entries (at-most-once delivery, the handout's loop in batches) and claim them: from the
-- queue's high list, else its list, else its low list.
-- KEYS[1] queue list, KEYS[2] pending hash, KEYS[3] stats hash (raw_seq), KEYS[4] the pause flag,
-- KEYS[5] the queue's high list, KEYS[6] its low list
-- ARGV[1] most entries to pop, ARGV[2] the worker's name, ARGV[3] now (seconds)
-- Returns the entries (claimed: see helpers.lua), or false when the queue is paused.
if redis.call('EXISTS', KEYS[4]) == 1 then return false end
for _, list in ipairs({KEYS[5], KEYS[1], KEYS[6]}) do
  local popped = redis.call('RPOP', list, tonumber(ARGV[1]))
  if popped then return (claim(popped, KEYS[2], KEYS[3], ARGV[2], ARGV[3])) end
end
return {}
