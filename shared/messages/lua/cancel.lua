-- CANCEL: take a scheduled message (delayed, or waiting for its retry) out before it runs.
-- KEYS[1] scheduled set (zset: id -> due, ms), KEYS[2] pending hash, KEYS[3] stats hash,
-- KEYS[4] scheduled envelopes (hash: id -> envelope)
-- ARGV[1] the message id
-- Returns the envelope removed, or false when the id is not scheduled (queued, running, settled
-- or unknown: those are not cancelled). O(log n) at any size.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return false end
local envelope = redis.call('HGET', KEYS[4], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[3], 'cancelled', 1)
return envelope or ''
