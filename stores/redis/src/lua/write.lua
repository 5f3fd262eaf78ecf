-- sessile: the commonest plan, on its own: write fields of one record only if its 'x'
-- (which holds the version: every write of the record moves it) is still the one read
-- (a rotation's token, a client's move; a save has its own save.lua). The plan was
-- decided in Rust, as for commit.lua; this script does what commit.lua would do with
-- that plan (one 'eq' guard on 'x', one HSET of the same key, the new 'x' among its
-- fields) without reading a plan: the general interpreter cost about twice as much.
--
-- KEYS[1] the hash; ARGV[1] 'x' as read; then field, value pairs.
-- Returns 1 when written, 0 when the record changed (nothing written).
if (redis.call('HGET', KEYS[1], 'x') or '') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
