-- FIRE: send a periodic schedule's message for one tick, once, however many workers try.
-- KEYS[1] next-run set (zset: name -> next tick, ms), KEYS[2] queue list, KEYS[3] pending hash,
-- KEYS[4] stats hash, KEYS[5] fired counts (hash: name -> messages sent)
-- ARGV[1] name, ARGV[2] the tick being fired (ms, as the set holds it), ARGV[3] the next tick (ms),
-- ARGV[4] the message's id, ARGV[5] its envelope
-- Returns 1, or 0 when the set no longer holds that tick for the name (another worker fired it, or
-- the schedule was removed or replaced): a compare-and-set on the score, so each tick sends one
-- message. The next tick is the first after now, computed by the caller: after downtime one
-- catch-up message goes, not one per missed tick.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('LPUSH', KEYS[2], ARGV[5])
redis.call('HSET', KEYS[3], ARGV[4], '')
redis.call('HINCRBY', KEYS[4], 'enqueued', 1)
redis.call('HINCRBY', KEYS[4], 'periodic', 1)
redis.call('HINCRBY', KEYS[5], ARGV[1], 1)
return 1
