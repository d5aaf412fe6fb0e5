-- Delete a tenant that has no receivers left, in one step with the check, so a receiver created
-- at that very moment (create-receiver.lua checks the tenant exists) is never left without one.
-- KEYS[1] tenant hash, KEYS[2] tenants set, KEYS[3] the tenant's receivers, KEYS[4] its message index
-- ARGV[1] tenant id
-- Returns 1 when deleted, 0 when there is no such tenant, -1 while it has receivers.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('ZCARD', KEYS[3]) > 0 then return -1 end
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
