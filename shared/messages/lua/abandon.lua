-- ABANDON: take a message back from a worker whose handler runs past its timeout, and give back the rest
-- of what the worker holds.
-- KEYS[1] the worker's processing list, KEYS[2] queue list, KEYS[3] pending hash, KEYS[4] stats hash,
-- KEYS[5] dead-letter index, KEYS[6] dead letters, KEYS[7] scheduled set, KEYS[8] scheduled envelopes,
-- KEYS[9] dead-letter groups (hash), KEYS[10] each dead letter's group (hash)
-- ARGV[1] results prefix, ARGV[2] record ttl, ARGV[3] now (ms), ARGV[4] reliable (1/0), ARGV[5] bucket
-- minute, ARGV[6] the id, ARGV[7] its record, ARGV[8] its envelope (this run counted), ARGV[9] action
-- ('retry' or 'dead'), ARGV[10] when the retry is due (ms; 0: at once), ARGV[11] a dead letter's group set,
-- ARGV[12] the error's signature (helpers.lua, file_dead)
-- Returns 1, or 0 when the worker no longer holds it (it was settled meanwhile: nothing is done). The
-- other entries of the processing list go back to the queue's consumer end unchanged (a result the
-- worker had not stored yet is made again: at least once); the list is emptied.
local id = ARGV[6]
if ARGV[4] == '1' then
  local held = redis.call('LRANGE', KEYS[1], 0, -1)
  local back, released, found = {}, {}, false
  for i = #held, 1, -1 do
    local other = envelope_id(held[i])
    if other == id then
      found = true
    else
      back[#back + 1] = held[i]
      if other then
        released[#released + 1] = other
        released[#released + 1] = ''
      end
    end
  end
  if not found then return 0 end
  redis.call('DEL', KEYS[1])
  if #back > 0 then redis.call('RPUSH', KEYS[2], unpack(back)) end
  if #released > 0 then redis.call('HSET', KEYS[3], unpack(released)) end
elseif redis.call('HEXISTS', KEYS[3], id) == 0 then
  return 0
end
local dead = ARGV[9] == 'dead'
route_failure({queue = KEYS[2], dead_index = KEYS[5], dead = KEYS[6], pending = KEYS[3], scheduled = KEYS[7],
               envelopes = KEYS[8], groups = KEYS[9], group_of = KEYS[10]}, ARGV[1] .. ARGV[5], tonumber(ARGV[2]),
              tonumber(ARGV[3]), id, ARGV[7], ARGV[8], dead, ARGV[10], ARGV[11], ARGV[12])
if dead then
  redis.call('HDEL', KEYS[3], id)
  redis.call('HINCRBY', KEYS[4], 'dead', 1)
else
  redis.call('HINCRBY', KEYS[4], 'retried', 1)
end
redis.call('HINCRBY', KEYS[4], 'failed', 1)
redis.call('HINCRBY', KEYS[4], 'timeouts', 1)
return 1
