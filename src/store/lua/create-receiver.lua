-- Register a receiver in its shard group (src/store/keys.ts). One of a tenant is checked against
-- its tenant by the caller after this write (store/receivers.ts, lua/delete-tenant.lua).
-- KEYS[1] receiver hash, KEYS[2] the group's receivers set, KEYS[3] the group's receivers version,
-- KEYS[4] the group's set of the tenant's receivers (unused without a tenant)
-- ARGV[1] receiver id, ARGV[2] config JSON, ARGV[3] enabled '1' | '0', ARGV[4] tenant id ('' = none)
-- `reopened` starts at 0: no delivery a resend put back yet (lua/claim.lua). A receiver stored by
-- a version before it has none, which claims read as unknown.
-- Returns 1.
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[4], 0, ARGV[1])
  redis.call('HSET', KEYS[1], 'tenant', ARGV[4])
end
redis.call('HSET', KEYS[1], 'config', ARGV[2], 'enabled', ARGV[3], 'reopened', 0)
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('INCR', KEYS[3])
return 1
