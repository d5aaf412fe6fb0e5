-- Register a receiver. One of a tenant only while the tenant exists, checked in the same step as
-- the write: a tenant deleted at that very moment is never left with a receiver (delete-tenant.lua
-- refuses while its receivers index is not empty).
-- KEYS[1] receiver hash, KEYS[2] receivers set, KEYS[3] receivers version, KEYS[4] tenant hash,
-- KEYS[5] the tenant's receivers (both unused without a tenant)
-- ARGV[1] receiver id, ARGV[2] config JSON, ARGV[3] enabled '1' | '0', ARGV[4] tenant id ('' = none)
-- Returns 1, or 0 when the tenant does not exist.
if ARGV[4] ~= '' then
  if redis.call('EXISTS', KEYS[4]) == 0 then return 0 end
  redis.call('ZADD', KEYS[5], 0, ARGV[1])
  redis.call('HSET', KEYS[1], 'tenant', ARGV[4])
end
redis.call('HSET', KEYS[1], 'config', ARGV[2], 'enabled', ARGV[3])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('INCR', KEYS[3])
return 1
