-- NOTE: append steps to messages' timelines (shared/messages/timeline.py).
-- KEYS[1] the queue's stats hash (field timeline_steps counts the steps written), then the timeline hashes, one a
--         second (fila:timeline:<second>; field: a message id made in that second, value: its steps, one a line)
-- ARGV[1] ttl (ms: each hash is kept that long after its last write), ARGV[2] most steps a timeline keeps (the
--         oldest beyond it are dropped), then for each hash in order: how many steps (n), then n pairs of
--         message id and step (a JSON object on one line), each message's steps oldest first
-- Returns how many steps were appended. An HGET and an HSET a step (a timeline is at most ARGV[2] short lines),
-- a PEXPIRE a hash: bounded at any size.
local ttl, most = ARGV[1], tonumber(ARGV[2])
local at, total = 3, 0
for i = 2, #KEYS do
  local key, n = KEYS[i], tonumber(ARGV[at])
  for j = at + 1, at + 2 * n, 2 do
    local id, step = ARGV[j], ARGV[j + 1]
    local steps = redis.call('HGET', key, id)
    if steps then
      steps = steps .. '\n' .. step
      local _, lines = string.gsub(steps, '\n', '')
      for _ = most, lines do  -- over the cap (lines + 1 steps > most): drop the oldest
        steps = string.sub(steps, string.find(steps, '\n', 1, true) + 1)
      end
    else
      steps = step
    end
    redis.call('HSET', key, id, steps)
  end
  redis.call('PEXPIRE', key, ttl)
  at, total = at + 2 * n + 1, total + n
end
redis.call('HINCRBY', KEYS[1], 'timeline_steps', total)
return total
