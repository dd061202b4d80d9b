-- ENQUEUE: LPUSH a batch of envelopes and record their ids as pending (queued, held by nobody).
-- KEYS[1] queue list, KEYS[2] stats hash, KEYS[3] pending hash (id -> the worker holding it, '' for none)
-- ARGV    id, envelope, id, envelope, ... (at most 1000 pairs: shared.queue sends bigger batches in parts)
-- A message's status record is written when it is settled, not here: enqueueing stays cheap.
local pending, chunk = {}, {}
for i = 1, #ARGV, 2 do
  pending[#pending + 1] = ARGV[i]
  pending[#pending + 1] = ''
  chunk[#chunk + 1] = ARGV[i + 1]
end
redis.call('HSET', KEYS[3], unpack(pending))
redis.call('LPUSH', KEYS[1], unpack(chunk))
redis.call('HINCRBY', KEYS[2], 'enqueued', #chunk)
return #chunk
