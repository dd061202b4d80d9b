-- TAKE: move up to N of the oldest entries, oldest first, into a worker's processing list.
-- KEYS[1] queue list, KEYS[2] the worker's processing list
-- ARGV[1] most entries to take
-- Being in a processing list is what makes a message "processing": nothing is written per
-- message. A redelivered entry (attempts > 0) is always taken alone, so that a message that
-- kills its worker cannot drag the same batch-mates towards the dead letters again and again.
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
