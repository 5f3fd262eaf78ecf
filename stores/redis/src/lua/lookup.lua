-- sessile: find the session a token's digest names and, on a request (given now), mark
-- it used when nothing else about it changes, so that a request that only reads costs
-- one round trip.
--
-- KEYS[1] the token's key.
-- ARGV[1] the prefix of record keys, ARGV[2] now (ms, twenty digits) to touch, '' to
-- only look,
-- ARGV[3] the request's address digest and ARGV[4] its user-agent digest, each as ten
-- digits ('' when not given or not watched). Each argument costs Redis about as much as
-- a field it reads: there are no more than these.
--
-- Returns {0} when no key has the digest, {1, sid, death} for a dead token (a
-- tombstone), {2, sid, h, x, ls, d[, pr]} for a live token, 3 in place of 2 when it
-- was touched (the record's fields, with the touch's last-seen time; not its token's
-- digest 't', which is the one looked up). Every decision about what it means is made
-- in Rust.
-- A token's key is a string: its session's id (16 hex digits), followed by how the
-- token died when it is a tombstone.
local tok = redis.call('GET', KEYS[1])
if not tok then
  return {0}
end
local sid = string.sub(tok, 1, 16)
if #tok > 16 then
  return {1, sid, string.sub(tok, 17)}
end
local key = ARGV[1] .. sid
-- The record in few fields (each one Redis converts for Lua and back is a good part of
-- a script's time): 'h' holds the numbers the touch compares at fixed places
-- (record.rs, Record::head): the absolute deadline 1-20, idle 21-30, absolute 31-40,
-- the quiet address 41-50, the user agent 51-60, the state at 61. Times of twenty
-- digits compare as text, with no conversion to a number (about 2k instructions each).
local rec = redis.call('HMGET', key, 'h', 'x', 'ls', 'd', 'pr')
local kind = 2
local h = rec[1]
if ARGV[2] ~= '' and h then
  local i = tonumber(string.sub(h, 21, 30))
  local ls = tonumber(rec[3])
  local now = tonumber(ARGV[2])
  -- The one rule restated here (sessile::rules::liveness, tested equal to it on a grid
  -- of inputs): a session is live while now < min(last seen + idle, created + absolute).
  -- The idle sum is left to Rust past 2^52 (where doubles stop being exact). A touch is
  -- only made when the client is the one the session already knows (the quiet address is
  -- the one a repeat of which changes nothing), so nothing but the last-seen time (and,
  -- for an anonymous session, the eviction's referenced bit 'r') changes. Both go in one
  -- HSET: each redis.call is a good part of a script's time.
  if ls and i and now < 2^52 and ls < 2^52
    and now < ls + i and ARGV[2] < string.sub(h, 1, 20)
    and (ARGV[3] == '' or ARGV[3] == string.sub(h, 41, 50))
    and (ARGV[4] == '' or ARGV[4] == string.sub(h, 51, 60)) then
    if now > ls then
      rec[3] = ARGV[2]
    end
    if string.byte(h, 61) == 97 then -- 'a': anonymous
      redis.call('HSET', key, 'ls', rec[3], 'r', '1')
    elseif now > ls then
      redis.call('HSET', key, 'ls', ARGV[2])
    end
    kind = 3
  end
end
-- A flat reply (a nested table costs Redis more to convert, and each element about a
-- thousand instructions); pr, absent for an anonymous session, is last (a nil there ends
-- the array or is sent as a nil).
return {kind, sid, h, rec[2], rec[3], rec[4], rec[5]}
