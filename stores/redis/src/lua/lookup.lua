-- sessile: find the session a token's digest names and, on a request (mode 'touch'),
-- mark it used when nothing else about it changes, so that a request that only reads
-- costs one round trip.
--
-- KEYS[1] the token's key, KEYS[2] the meta hash, KEYS[3] the anonymous sessions' LRU.
-- ARGV[1] the prefix of record keys, ARGV[2] 'touch' or 'peek', ARGV[3] now (ms),
-- ARGV[4] the request's address digest and ARGV[5] its user-agent digest ('' when not
-- given or not watched).
--
-- Returns {0} when no key has the digest, {1, sid, death} for a dead token (a
-- tombstone), {2, touched, sid, record} for a live token (the record as HGETALL gives
-- it, with the touch's last-seen time). Every decision about what it means is made in Rust.
local tok = redis.call('HMGET', KEYS[1], 's', 'd')
if not tok[1] then
  return {0}
end
if tok[2] then
  return {1, tok[1], tok[2]}
end
local key = ARGV[1] .. tok[1]
-- The record is read once: the touch is decided from the same fields it returns (one
-- call fewer than reading the touch's fields apart; each call into Redis is most of a
-- script's time).
local rec = redis.call('HGETALL', key)
local touched = 0
if ARGV[2] == 'touch' then
  local c, ls, i, a, q, ua, st, at
  for k = 1, #rec, 2 do
    local name = rec[k]
    if name == 'c' then c = tonumber(rec[k + 1])
    elseif name == 'ls' then ls = tonumber(rec[k + 1]); at = k + 1
    elseif name == 'i' then i = tonumber(rec[k + 1])
    elseif name == 'a' then a = tonumber(rec[k + 1])
    elseif name == 'q' then q = rec[k + 1]
    elseif name == 'ua' then ua = rec[k + 1]
    elseif name == 'st' then st = rec[k + 1]
    end
  end
  local now = tonumber(ARGV[3])
  -- The one rule restated here (sessile::rules::liveness, tested equal to it on a grid
  -- of inputs): a session is live while now < min(last seen + idle, created + absolute).
  -- Times past 2^52 (where doubles stop being exact) are left to Rust. A touch is only
  -- made when the client is the one the session already knows ('q' is the address a
  -- repeat of which changes nothing), so nothing but the last-seen time changes.
  if c and ls and i and a and now < 2^52 and c < 2^52 and ls < 2^52
    and now < ls + i and now < c + a
    and (ARGV[4] == '' or ARGV[4] == q)
    and (ARGV[5] == '' or ARGV[5] == ua) then
    if now > ls then
      redis.call('HSET', key, 'ls', ARGV[3])
      rec[at] = ARGV[3]
    end
    if st == 'a' then
      redis.call('ZADD', KEYS[3], redis.call('HINCRBY', KEYS[2], 'seq', 1), tok[1])
    end
    touched = 1
  end
end
return {2, touched, tok[1], rec}
