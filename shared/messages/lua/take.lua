-- TAKE: move up to N of the oldest entries, oldest first, into a worker's processing list.
-- KEYS[1] queue list, KEYS[2] the worker's processing list, KEYS[3] pending hash, KEYS[4] the pause flag,
-- KEYS[5] stats hash (its raw_seq numbers the ids of wrapped entries)
-- ARGV[1] most entries to take, ARGV[2] the worker's name, ARGV[3] now (seconds)
-- Returns the entries taken (claimed: see helpers.lua), or false when the queue is paused (nothing is taken).
-- Each envelope's pending entry names the worker: a status lookup needs nothing else. A
-- redelivered entry (attempts > 0) is always taken alone, so that a message that kills its
-- worker cannot drag the same batch-mates towards the dead letters again and again.
if redis.call('EXISTS', KEYS[4]) == 1 then return false end
local items = redis.call('LRANGE', KEYS[1], -tonumber(ARGV[1]), -1)
local n = #items
if n == 0 then return items end
local ordered = {}
for i = n, 1, -1 do
  local _, attempts = envelope_head(items[i])
  local retry = attempts > 0
  if retry and #ordered > 0 then break end
  ordered[#ordered + 1] = items[i]
  if retry then break end
end
redis.call('LTRIM', KEYS[1], 0, -#ordered - 1)
ordered = claim(ordered, KEYS[3], KEYS[5], ARGV[2], ARGV[3])
redis.call('RPUSH', KEYS[2], unpack(ordered))
return ordered
