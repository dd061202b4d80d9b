-- TAKE: move up to N of the oldest entries of one queue, oldest first, into the worker's processing list for it:
-- the first queue, in the order given, that is not paused and holds any; from its high list, else its
-- list, else its low list (one list per call).
-- KEYS, 8 per queue, in the order to try: the queue list, its high list, its low list, the worker's
-- processing list for it, its pending hash, its pause flag, its stats hash (its raw_seq numbers the ids
-- of wrapped entries), its bell
-- ARGV[1] most entries to take, ARGV[2] the worker's name, ARGV[3] now (seconds), ARGV[4] 1: ring the
-- bell of a queue that still holds entries after the take (the next idle worker of several queues wakes)
-- Returns {the queue's position (1-based), the entries taken (claimed: see helpers.lua)}, {0, {}}
-- when nothing waits, or false when every queue is paused (nothing is taken).
-- Each envelope's pending entry names the worker: a status lookup needs nothing else. A
-- redelivered entry (attempts > 0) is always taken alone, so that a message that kills its
-- worker cannot drag the same batch-mates towards the dead letters again and again.
local paused = 0
local queues = #KEYS / 8
for q = 0, queues - 1 do
  local k = q * 8
  if redis.call('EXISTS', KEYS[k + 6]) == 1 then
    paused = paused + 1
  else
    for _, list in ipairs({KEYS[k + 2], KEYS[k + 1], KEYS[k + 3]}) do
      local items = redis.call('LRANGE', list, -tonumber(ARGV[1]), -1)
      local n = #items
      if n > 0 then
        local ordered = {}
        for i = n, 1, -1 do
          local _, attempts = envelope_head(items[i])
          local retry = attempts > 0
          if retry and #ordered > 0 then break end
          ordered[#ordered + 1] = items[i]
          if retry then break end
        end
        redis.call('LTRIM', list, 0, -#ordered - 1)
        ordered = claim(ordered, KEYS[k + 5], KEYS[k + 7], ARGV[2], ARGV[3])
        redis.call('RPUSH', KEYS[k + 4], unpack(ordered))
        if ARGV[4] == '1' and (redis.call('LLEN', KEYS[k + 1]) + redis.call('LLEN', KEYS[k + 2])
                               + redis.call('LLEN', KEYS[k + 3])) > 0 then
          ring(KEYS[k + 8])
        end
        return {q + 1, ordered}
      end
    end
  end
end
if paused == queues then return false end
return {0, {}}
