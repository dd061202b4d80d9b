-- ENQUEUE_ONCE: enqueue a request sent with an Idempotency-Key, and keep what it was given, in one step.
-- KEYS[1] queue list, KEYS[2] stats hash, KEYS[3] pending hash, KEYS[4] scheduled set (zset: id -> due, ms),
-- KEYS[5] scheduled envelopes (hash), KEYS[6] the key's record (shared/messages/idempotency.py),
-- KEYS[7] the queue's high list, KEYS[8] its low list, KEYS[9] its bell
-- ARGV[1] the record to keep (the request's digest and its ids), ARGV[2] its ttl (s), ARGV[3] how many
-- messages are due now (n), then n pairs (id, envelope), then triples (id, due ms, envelope) for the
-- delayed ones (at most idempotency.ONCE_MAX messages in all)
-- Returns false when it enqueued them and kept the record, or the record an earlier request kept
-- under this key (then nothing is enqueued: the caller answers as the first time, or refuses a
-- different request). The messages and the record are written together: a failover keeps both or
-- neither (with REDIS_WAIT_REPLICAS the WAIT after this call covers both).
local kept = redis.call('GET', KEYS[6])
if kept then
  redis.call('HINCRBY', KEYS[2], 'replayed', 1)
  return kept
end
local now_count = tonumber(ARGV[3])
local pending, chunk = {}, {}
for i = 4, 3 + 2 * now_count, 2 do
  pending[#pending + 1] = ARGV[i]
  pending[#pending + 1] = ''
  chunk[#chunk + 1] = ARGV[i + 1]
end
local members, envelopes = {}, {}
for i = 4 + 2 * now_count, #ARGV, 3 do
  pending[#pending + 1] = ARGV[i]
  pending[#pending + 1] = '@' .. ARGV[i + 1]
  members[#members + 1] = ARGV[i + 1]
  members[#members + 1] = ARGV[i]
  envelopes[#envelopes + 1] = ARGV[i]
  envelopes[#envelopes + 1] = ARGV[i + 2]
end
if #pending > 0 then redis.call('HSET', KEYS[3], unpack(pending)) end
if #chunk > 0 then
  push_by_priority({main = KEYS[1], high = KEYS[7], low = KEYS[8]}, chunk)
  ring(KEYS[9])
end
if #members > 0 then
  redis.call('ZADD', KEYS[4], unpack(members))
  redis.call('HSET', KEYS[5], unpack(envelopes))
end
redis.call('HINCRBY', KEYS[2], 'enqueued', #pending / 2)
redis.call('SET', KEYS[6], ARGV[1], 'EX', tonumber(ARGV[2]))
return false
