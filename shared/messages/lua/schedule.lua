-- SCHEDULE: put a batch of delayed envelopes in the scheduled set and record their ids as pending.
-- KEYS[1] scheduled set (zset: id -> when it is due, ms), KEYS[2] stats hash, KEYS[3] pending hash,
-- KEYS[4] scheduled envelopes (hash: id -> envelope)
-- ARGV    id, due (ms), envelope, id, due, envelope, ... (at most SCHEDULE_CHUNK triples: queue.py splits)
-- Returns how many were scheduled. The pending entry reads '@<due>': no worker may claim the
-- envelope before PROMOTE moves it onto the queue (claim() in helpers.lua wants '' there). As in
-- ENQUEUE, an id already pending is skipped (a call sent again after its reply was lost).
local ids = {}
for i = 1, #ARGV, 3 do ids[#ids + 1] = ARGV[i] end
local known = redis.call('HMGET', KEYS[3], unpack(ids))
local pending, members, envelopes = {}, {}, {}
for i = 1, #ids do
  if not known[i] then
    local due = ARGV[3 * i - 1]
    pending[#pending + 1] = ids[i]
    pending[#pending + 1] = '@' .. due
    members[#members + 1] = due
    members[#members + 1] = ids[i]
    envelopes[#envelopes + 1] = ids[i]
    envelopes[#envelopes + 1] = ARGV[3 * i]
  end
end
if #members == 0 then return 0 end
redis.call('HSET', KEYS[3], unpack(pending))
redis.call('ZADD', KEYS[1], unpack(members))
redis.call('HSET', KEYS[4], unpack(envelopes))
redis.call('HINCRBY', KEYS[2], 'enqueued', #members / 2)
return #members / 2
