-- GIVE_BACK: put entries taken but not processed back at the consumer end of the queue.
-- KEYS[1] the worker's processing list ('' in brpop mode), KEYS[2] queue list
-- ARGV[1] reliable (1/0), then the entries in processing order
local count = 0
for i = #ARGV, 2, -1 do
  local entry = ARGV[i]
  local owned = 1
  if ARGV[1] == '1' then owned = redis.call('LREM', KEYS[1], 1, entry) end
  if owned == 1 then
    redis.call('RPUSH', KEYS[2], entry)
    count = count + 1
  end
end
return count
