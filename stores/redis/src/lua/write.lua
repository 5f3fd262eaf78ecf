-- sessile: the commonest plan, on its own: write fields of one hash only if its version
-- ('v') is still the one read (a save's payload and epoch, a rotation's token). The
-- plan was decided in Rust, as for commit.lua; this script does what commit.lua would do
-- with that plan (one 'eq' guard on 'v', one HSET of the same key, the new version among
-- its fields) without reading a plan: the general interpreter cost about twice as much.
--
-- KEYS[1] the hash; ARGV[1] the version read; then field, value pairs.
-- Returns 1 when written, 0 when the version moved (nothing written).
if (redis.call('HGET', KEYS[1], 'v') or '') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
