-- ENQUEUE: LPUSH a batch of envelopes and record their ids as pending (queued, held by nobody).
-- KEYS[1] the list to push to (the queue list, or its high or low list), KEYS[2] stats hash, KEYS[3] pending
-- hash (id -> the worker holding it, '' for none), KEYS[4] the queue's bell, KEYS[5] the queue list, KEYS[6] its
-- high list (a high batch goes straight on the queue list when both are empty: nothing waits ahead of it),
-- KEYS[7] with a timeline: the hash of the timelines of the second the ids were made in (all of a call's ids are
-- made at one time)
-- ARGV[1] timeline ttl (ms; 0: no timeline is written), ARGV[2] the `enqueued` step every message of the call
--         starts its timeline with (shared/messages/timeline.py), then id, envelope, id, envelope, ... (at most
--         1000 pairs: shared.messages.queue sends bigger batches in parts)
-- Returns how many were pushed. An id already pending is skipped: when the reply to an ENQUEUE is
-- lost and redis-py sends the same call again (the ids are made by the client, before the first
-- try), the messages are not pushed twice.
-- A message's status record is written when it is settled, not here: enqueueing stays cheap.
local ttl, step = tonumber(ARGV[1]), ARGV[2]
local ids = {}
for i = 3, #ARGV, 2 do ids[#ids + 1] = ARGV[i] end
local known = redis.call('HMGET', KEYS[3], unpack(ids))
local pending, chunk = {}, {}
for i = 1, #ids do
  if not known[i] then
    pending[#pending + 1] = ids[i]
    pending[#pending + 1] = ''
    chunk[#chunk + 1] = ARGV[2 * i + 2]
  end
end
if #chunk == 0 then return 0 end
redis.call('HSET', KEYS[3], unpack(pending))
if KEYS[1] == KEYS[6] and redis.call('LLEN', KEYS[5]) == 0 and redis.call('LLEN', KEYS[6]) == 0 then
  redis.call('LPUSH', KEYS[5], unpack(chunk))
else
  redis.call('LPUSH', KEYS[1], unpack(chunk))
end
ring(KEYS[4])
redis.call('HINCRBY', KEYS[2], 'enqueued', #chunk)
if ttl > 0 then
  local started = {}
  for i = 1, #ids do
    if not known[i] then
      started[#started + 1] = ids[i]
      started[#started + 1] = step
    end
  end
  redis.call('HSET', KEYS[7], unpack(started))
  redis.call('PEXPIRE', KEYS[7], ttl)
  redis.call('HINCRBY', KEYS[2], 'timeline_steps', #chunk)
end
return #chunk
