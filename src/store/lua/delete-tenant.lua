-- Delete a tenant that has no receivers left, in one step with the check, so a receiver created
-- at that very moment (create-receiver.lua checks the tenant exists) is never left without one.
-- KEYS[1] tenant hash, KEYS[2] tenants set, KEYS[3] its message index, KEYS[4..] the tenant's
-- receivers in each shard group (keys.ts)
-- ARGV[1] tenant id
-- Returns 1 when deleted, 0 when there is no such tenant, -1 while it has receivers.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 4, #KEYS do
  if redis.call('ZCARD', KEYS[i]) > 0 then return -1 end
end
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
