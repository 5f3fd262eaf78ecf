-- sessile: apply a plan's writes only if every guard still holds (optimistic
-- concurrency). The plan was decided in Rust, by sessile::rules, from what was read;
-- this script makes "what was read is unchanged, so write" one atomic step. It decides
-- nothing: it compares the values it is given and runs the commands it is given.
--
-- KEYS: the keys the plan names; KEYS[1] is the meta hash (its 'seq' orders lists).
-- ARGV: the number of guards, then per guard: key index, kind, field, value;
--   kind 'eq': HGET key field equals value ('' when the field is absent),
--   kind 'num': the field, a number (0 when absent), equals value,
--   kind 'le': the field, a number (0 when absent), is at most value,
--   kind 'absent': the key does not exist.
-- Then the commands, each: n, name, key index, n - 2 arguments. Besides plain Redis
-- commands on that key, the bookkeeping ones:
--   ZSEQ member        ZADD key <next seq> member (to the tail of a list in order)
--   ZBACK member       the same, only for a member still there (ZADD XX)
--   HJOIN field        HSET key field <next seq> and v <that seq> (a list in order
--                      of joining, and its version: never the same number twice)
--   HLEAVE field       HDEL key field, then DEL the hash if only its 'v' is left,
--                      else HSET v <next seq>
--   HMAX field value   HSET key field value unless the field holds a larger number
--   TRIM count prefix  ZPOPMIN key until count are left, DEL prefix..member of each
--   KEPT member ttl    ZADD key <server ms + ttl> member (when a tombstone expires)
--   PRUNE              ZREMRANGEBYSCORE key -inf <server ms>
-- Returns 1 when written, 0 when a guard failed (nothing written).
local meta = KEYS[1]
local i = 1
local guards = tonumber(ARGV[i])
i = i + 1
for _ = 1, guards do
  local key, kind, field, want = KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  i = i + 4
  if kind == 'absent' then
    if redis.call('EXISTS', key) == 1 then
      return 0
    end
  elseif kind == 'eq' then
    if (redis.call('HGET', key, field) or '') ~= want then
      return 0
    end
  elseif kind == 'num' then
    if tonumber(redis.call('HGET', key, field) or '0') ~= tonumber(want) then
      return 0
    end
  elseif kind == 'le' then
    if tonumber(redis.call('HGET', key, field) or '0') > tonumber(want) then
      return 0
    end
  else
    return redis.error_reply('sessile: unknown guard ' .. kind)
  end
end

-- The server's clock in ms: only for when a tombstone's memory ends (its TTL), never for
-- a session's deadline.
local function server_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- a > b for decimal integers of the same width or without leading zeros (exact beyond
-- 2^53; last-seen times are twenty digits).
local function greater(a, b)
  if #a ~= #b then
    return #a > #b
  end
  return a > b
end

-- Each command's arguments are read from ARGV where they stand (no table is built for
-- them: allocating one per command was a good part of this script's time).
local last = #ARGV
while i <= last do
  local n = tonumber(ARGV[i])
  local name, key = ARGV[i + 1], KEYS[tonumber(ARGV[i + 2])]
  local a1, a2 = ARGV[i + 3], ARGV[i + 4]
  local from, to = i + 3, i + n
  i = i + n + 1
  if name == 'ZSEQ' then
    redis.call('ZADD', key, redis.call('HINCRBY', meta, 'seq', 1), a1)
  elseif name == 'ZBACK' then
    redis.call('ZADD', key, 'XX', redis.call('HINCRBY', meta, 'seq', 1), a1)
  elseif name == 'HJOIN' then
    local seq = redis.call('HINCRBY', meta, 'seq', 1)
    redis.call('HSET', key, a1, seq, 'v', seq)
  elseif name == 'HMAX' then
    local have = redis.call('HGET', key, a1)
    if not have or greater(a2, have) then
      redis.call('HSET', key, a1, a2)
    end
  elseif name == 'HLEAVE' then
    redis.call('HDEL', key, a1)
    if redis.call('HLEN', key) <= 1 then
      redis.call('DEL', key)
    else
      redis.call('HSET', key, 'v', redis.call('HINCRBY', meta, 'seq', 1))
    end
  elseif name == 'TRIM' then
    local over = redis.call('ZCARD', key) - tonumber(a1)
    if over > 0 then
      local popped = redis.call('ZPOPMIN', key, over)
      for k = 1, #popped, 2 do
        redis.call('DEL', a2 .. popped[k])
      end
    end
  elseif name == 'KEPT' then
    redis.call('ZADD', key, server_ms() + tonumber(a2), a1)
  elseif name == 'PRUNE' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', server_ms())
  else
    redis.call(name, key, unpack(ARGV, from, to))
  end
end
return 1
