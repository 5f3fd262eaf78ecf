-- sessile: a save, the commonest write: the record's payload ('d') and its other numbers
-- ('x', which holds the epoch the save moved and the version) written only if 'x' is
-- still the one read (every write of the record moves the version in it). The same as
-- write.lua with the field names in the script rather than in ARGV (each argument Redis
-- hands to Lua costs about as much as a field it reads). The write was decided in Rust
-- (sessile::rules::save).
--
-- KEYS[1] the record; ARGV[1] 'x' as read, ARGV[2] the payload, ARGV[3] the new 'x'.
-- Returns 1 when written, 0 when the record changed (nothing written).
if (redis.call('HGET', KEYS[1], 'x') or '') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'd', ARGV[2], 'x', ARGV[3])
return 1
