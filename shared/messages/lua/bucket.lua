-- BUCKET: take up to ARGV[3] tokens from a queue's token bucket (QUEUE_RATE_LIMIT, shared by every worker).
-- KEYS[1] the bucket (hash: tokens, at), KEYS[2] stats hash (counts the waits)
-- ARGV[1] rate (tokens a second), ARGV[2] burst (the most it holds), ARGV[3] tokens wanted
-- Returns {granted, ms to wait before the next token when none was granted}. The bucket refills at
-- `rate` by Redis' own clock (TIME), so workers on hosts whose clocks differ share one limit; it
-- starts full, and its key expires once it would be full again anyway.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local rate, burst, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local granted = math.min(want, math.floor(tokens))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
if granted > 0 then return {granted, 0} end
redis.call('HINCRBY', KEYS[2], 'throttled', 1)
return {0, math.max(1, math.ceil((1 - tokens) * 1000 / rate))}
