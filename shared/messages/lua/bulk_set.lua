-- BULK_SET: set a chunk of keys of a CSV to their values, unless one of them holds another type.
-- KEYS    the keys (at most web.bulk.CHUNK)
-- ARGV[1] '1' to check only, '0' to write; then one value per key, in KEYS' order
-- Returns {0, key, type} for the first key that holds something other than a string (nothing of
-- the chunk is written, as SET ... GET refuses on /set), else {1, keys written}.
for _, key in ipairs(KEYS) do
  local kind = redis.call('TYPE', key).ok
  if kind ~= 'none' and kind ~= 'string' then return {0, key, kind} end
end
if ARGV[1] == '1' then return {1, 0} end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[i + 1])
end
return {1, #KEYS}
