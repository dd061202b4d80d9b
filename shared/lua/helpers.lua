-- Helpers prepended to every script (shared/lua/__init__.py adds the envelope's head, defined
-- once in shared/envelope.py, as ENVELOPE_* constants before this file).
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

local function envelope_attempts(entry)
  return tonumber(string.match(entry, ENVELOPE_ATTEMPTS_PATTERN)) or 0
end

local function with_attempts(entry, attempts)
  return (string.gsub(entry, ENVELOPE_PREFIX_PATTERN, '%1' .. attempts, 1))
end

local function wrap(id, enqueued_at, body)
  return ENVELOPE_HEAD .. id .. ENVELOPE_ATTEMPTS .. '0' .. ENVELOPE_ENQUEUED_AT .. enqueued_at
    .. ENVELOPE_BODY .. cjson.encode(body) .. '}'
end
