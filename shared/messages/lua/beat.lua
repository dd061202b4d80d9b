-- BEAT: refresh a worker's heartbeat (a key with a TTL), its hash and its registration.
-- KEYS[1] the heartbeat key, KEYS[2] the worker's hash, KEYS[3] the set of workers
-- ARGV[1] the heartbeat's TTL (ms), ARGV[2] now (seconds), ARGV[3] the worker's name, then field, value, ...
-- The first write is a PEXPIRE, which a full Redis (maxmemory reached) allows: it can only free
-- memory. Redis refuses a script's writes for memory only until its first write, so the beat goes
-- through whole: a full Redis must not make live workers look dead, and have their messages
-- reaped and run a second time. A beat rewrites the same few bytes; it does not grow.
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[2], unpack(fields))
redis.call('SADD', KEYS[3], ARGV[3])
return 1
