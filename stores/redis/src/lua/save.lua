-- sessile: a save, the commonest write: the record's payload ('d') and its other numbers
-- ('x', which holds the epoch the save moved) written, with the next version ('v'), only
-- if its version is still the one read. The same as write.lua with the field names in
-- the script rather than in ARGV (each argument Redis hands to Lua costs about as much
-- as a field it reads). The write was decided in Rust (sessile::rules::save).
--
-- KEYS[1] the record; ARGV[1] the version read, ARGV[2] the payload, ARGV[3] 'x',
-- ARGV[4] the next version.
-- Returns 1 when written, 0 when the version moved (nothing written).
if (redis.call('HGET', KEYS[1], 'v') or '') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'd', ARGV[2], 'x', ARGV[3], 'v', ARGV[4])
return 1
