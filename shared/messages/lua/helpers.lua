-- Helpers prepended to every script (shared/messages/lua/__init__.py adds the envelope's head, defined
-- once in shared/messages/envelope.py, as ENVELOPE_* constants before this file).
-- Read an envelope's id and attempts, rewrite its attempts, and read or make ULIDs (a record's
-- bucket is the minute its id was made in).
local CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

local function id_minute(id)
  local ms = 0
  for i = 1, 10 do
    local v = string.find(CROCKFORD, string.sub(id, i, i), 1, true)
    if not v then return 0 end
    ms = ms * 32 + v - 1
  end
  return math.floor(ms / 60000)
end

local function new_id(ms, seq)
  local out = {}
  for i = 10, 1, -1 do
    local v = ms % 32
    out[i] = string.sub(CROCKFORD, v + 1, v + 1)
    ms = math.floor(ms / 32)
  end
  for i = 26, 11, -1 do
    local v = seq % 32
    out[i] = string.sub(CROCKFORD, v + 1, v + 1)
    seq = math.floor(seq / 32)
  end
  return table.concat(out)
end

local function envelope_id(entry)
  return string.match(entry, ENVELOPE_ID_PATTERN)
end

-- The id and the attempts of an envelope in one match (nil, 0 for a raw entry).
local function envelope_head(entry)
  local id, attempts = string.match(entry, ENVELOPE_HEAD_PATTERN)
  return id, tonumber(attempts) or 0
end

local function with_attempts(entry, attempts)
  return (string.gsub(entry, ENVELOPE_PREFIX_PATTERN, '%1' .. attempts, 1))
end

-- The envelope without its ttl_ms option (read in its head, before the body: options are numbers).
local function without_ttl(entry)
  local body = string.find(entry, ENVELOPE_BODY, 1, true)
  local opts = string.find(entry, ENVELOPE_OPTS, 1, true)
  if not body or not opts or opts > body then return entry end
  local head = string.sub(entry, 1, body - 1)
  head = string.gsub(head, ',' .. ENVELOPE_TTL_PATTERN, '', 1)
  head = string.gsub(head, ENVELOPE_TTL_PATTERN .. ',?', '', 1)
  return head .. string.sub(entry, body)
end

-- File a dead letter under its error's group (triage: shared/messages/triage.py). `group` is the group's
-- sorted set (its name ends with the 16-hex-digit group id); `k.groups` (id -> signature) and
-- `k.group_of` (letter id -> group id) are the queue's hashes. Nothing for an empty `group`.
local function file_dead(k, id, group, signature, now)
  if not group or group == '' then return end
  local gid = string.sub(group, -16)
  redis.call('ZADD', group, now, id)
  redis.call('HSET', k.group_of, id, gid)
  redis.call('HSETNX', k.groups, gid, signature)
end

-- Take a dead letter out of its group (requeued, deleted, purged), noting the group in `touched`;
-- `prefix` is the queue's group prefix (keys.dead_group_prefix). Then drop_empty_groups(k, prefix,
-- touched) removes the groups left empty, one ZCARD a group rather than one a letter.
local function unfile_dead(k, prefix, id, touched)
  local gid = redis.call('HGET', k.group_of, id)
  if not gid then return end
  redis.call('HDEL', k.group_of, id)
  redis.call('ZREM', prefix .. gid, id)
  touched[gid] = true
end

local function drop_empty_groups(k, prefix, touched)
  for gid in pairs(touched) do
    if redis.call('ZCARD', prefix .. gid) == 0 then redis.call('HDEL', k.groups, gid) end
  end
end

-- Route one failed run (SETTLE, ABANDON): a dead letter (its record, the envelope inside, into the
-- dead letters; its results entry gone), or a retry (its record in `results`; the envelope back on
-- the queue, or in the scheduled set until `due` ms, its pending entry saying which). `k` names the
-- keys: queue, dead_index, dead, pending, scheduled, envelopes, groups, group_of; a dead letter is filed
-- under `group` (file_dead). A dead letter's pending entry is the caller's to release (SETTLE releases
-- a batch's at once).
local function route_failure(k, results, ttl, now, id, record, envelope, dead, due, group, signature)
  if dead then
    redis.call('HSET', k.dead, id, record)
    redis.call('ZADD', k.dead_index, now, id)
    redis.call('HDEL', results, id)
    file_dead(k, id, group, signature, now)
    return
  end
  redis.call('HSET', results, id, record)
  redis.call('EXPIRE', results, ttl)
  if tonumber(due) > now then
    redis.call('ZADD', k.scheduled, due, id)
    redis.call('HSET', k.envelopes, id, envelope)
    redis.call('HSET', k.pending, id, '@' .. due)
  else
    redis.call('LPUSH', k.queue, envelope)
    redis.call('HSET', k.pending, id, '')
  end
end

local function wrap(id, enqueued_at, body)
  return ENVELOPE_HEAD .. id .. ENVELOPE_ATTEMPTS .. '0' .. ENVELOPE_ENQUEUED_AT .. enqueued_at
    .. ENVELOPE_BODY .. cjson.encode(body) .. '}'
end

-- Claim taken entries for a holder (a worker's name): what TAKE, CLAIM and POP share.
-- An envelope is fila's while its id is pending and held by nobody (ENQUEUE, a retry, GIVE_BACK,
-- RECLAIM and REQUEUE_DEAD leave it so), or by this very holder (a CLAIM sent again after its reply
-- was lost); the holder's name goes into the pending hash. An entry that only looks like an
-- envelope (forged with redis-cli, or a copy of one another worker holds or that is settled) would
-- otherwise run under a real message's id and overwrite its result: it is wrapped whole, as a raw
-- body, under a new id, and claimed under that. Raw entries are left as they are (the worker wraps
-- them). Returns the entries, rewritten where they were wrapped, and how many were.
local function claim(entries, pending, stats, holder, now)
  local ids, at = {}, {}
  for i, entry in ipairs(entries) do
    local id = envelope_id(entry)
    if id then
      ids[#ids + 1] = id
      at[#at + 1] = i
    end
  end
  if #ids == 0 then return entries, 0 end
  local held = redis.call('HMGET', pending, unpack(ids))
  local fields, seen, wrapped = {}, {}, 0
  for j, id in ipairs(ids) do
    if (held[j] ~= '' and held[j] ~= holder) or seen[id] then
      local clock = redis.call('TIME')
      id = new_id(tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000),
                  redis.call('HINCRBY', stats, 'raw_seq', 1))
      entries[at[j]] = wrap(id, now, entries[at[j]])
      wrapped = wrapped + 1
    end
    seen[id] = true
    fields[#fields + 1] = id
    fields[#fields + 1] = holder
  end
  redis.call('HSET', pending, unpack(fields))
  return entries, wrapped
end

-- An envelope's priority, read in its head (before the body): 'high', 'low', or nil (normal).
local function priority_of(entry)
  local body = string.find(entry, ENVELOPE_BODY, 1, true)
  if not body then return nil end
  local head = string.sub(entry, 1, body - 1)
  if string.find(head, ENVELOPE_PRIORITY_HIGH, 1, true) then return 'high' end
  if string.find(head, ENVELOPE_PRIORITY_LOW, 1, true) then return 'low' end
  return nil
end

-- Push envelopes by priority: `lists` names main, high and low. A high one goes to the main list's
-- consumer end when that list is empty (nothing waits ahead of it, and a worker blocked in BLMOVE
-- on the main list wakes at once), else to the high list, which TAKE serves first.
local function push_by_priority(lists, entries)
  local main, high, low = {}, {}, {}
  for _, entry in ipairs(entries) do
    local p = priority_of(entry)
    if p == 'high' then high[#high + 1] = entry
    elseif p == 'low' then low[#low + 1] = entry
    else main[#main + 1] = entry end
  end
  if #high > 0 then
    if redis.call('LLEN', lists.main) == 0 and redis.call('LLEN', lists.high) == 0 then
      redis.call('LPUSH', lists.main, unpack(high))
    else
      redis.call('LPUSH', lists.high, unpack(high))
    end
  end
  if #main > 0 then redis.call('LPUSH', lists.main, unpack(main)) end
  if #low > 0 then redis.call('LPUSH', lists.low, unpack(low)) end
end

-- Ring a queue's bell: wake one worker that serves several queues and waits on their bells (BLMPOP).
-- The bell holds at most one ring; a ring nobody hears costs one empty TAKE.
local function ring(bell)
  if redis.call('LLEN', bell) == 0 then redis.call('LPUSH', bell, '1') end
end
