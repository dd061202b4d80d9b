-- GIVE_BACK: put entries taken but not processed back at the consumer end of the queue.
-- KEYS[1] the worker's processing list (unused in brpop mode), KEYS[2] queue list, KEYS[3] pending hash
-- ARGV[1] reliable (1/0), then the entries in processing order
-- They are usually the tail of the processing list (what the worker took last): then one LTRIM
-- releases them all; otherwise each is removed by value. Their pending entries say "held by nobody".
local count, n = 0, #ARGV - 1
local tail_matches = false
if ARGV[1] == '1' then
  local tail = redis.call('LRANGE', KEYS[1], -n, -1)
  tail_matches = #tail == n
  for i = 1, #tail do
    if tail[i] ~= ARGV[i + 1] then tail_matches = false break end
  end
  if tail_matches then redis.call('LTRIM', KEYS[1], 0, -n - 1) end
end
local released = {}
for i = #ARGV, 2, -1 do
  local entry = ARGV[i]
  local owned = 1
  if ARGV[1] == '1' and not tail_matches then owned = redis.call('LREM', KEYS[1], 1, entry) end
  if owned == 1 then
    redis.call('RPUSH', KEYS[2], entry)
    local id = envelope_id(entry)
    if id then
      released[#released + 1] = id
      released[#released + 1] = ''
    end
    count = count + 1
  end
end
if #released > 0 then redis.call('HSET', KEYS[3], unpack(released)) end
return count
