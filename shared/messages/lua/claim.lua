-- CLAIM: claim entries a worker took with a native blocking command (BLMOVE, BRPOP), as TAKE claims its own.
-- KEYS[1] pending hash, KEYS[2] stats hash (raw_seq), KEYS[3] the worker's processing list
-- ARGV[1] the worker's name, ARGV[2] now (seconds), ARGV[3] the entry taken, ARGV[4] 1 after BLMOVE, 0 after BRPOP
-- Returns the entry, rewritten when it had to be wrapped (see helpers.lua); after BLMOVE the
-- processing list's tail (where BLMOVE put it) is rewritten too.
local entries, wrapped = claim({ARGV[3]}, KEYS[1], KEYS[2], ARGV[1], ARGV[2])
if wrapped > 0 and ARGV[4] == '1' and redis.call('LINDEX', KEYS[3], -1) == ARGV[3] then
  redis.call('LSET', KEYS[3], -1, entries[1])
end
return entries[1]
