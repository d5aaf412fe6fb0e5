-- Deleting a tenant, in steps (store/tenants.ts), because its receivers sit in every shard group
-- (src/store/keys.ts) and a script reaches one slot: 'mark' flags the tenant as being deleted,
-- the caller then finds every group's index of its receivers empty (or 'unmark's it), then 'drop'.
-- A receiver created meanwhile checks the tenant after writing itself and removes itself again
-- when it finds the flag (store/receivers.ts), so a deleted tenant is never left with a receiver.
-- KEYS[1] tenant hash, KEYS[2] tenants set
-- ARGV[1] 'mark' | 'unmark' | 'drop', ARGV[2] tenant id
-- Returns 1, or 0 when there is no such tenant.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == 'mark' then
  redis.call('HSET', KEYS[1], 'deleting', '1')
elseif ARGV[1] == 'unmark' then
  redis.call('HDEL', KEYS[1], 'deleting')
else
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[2])
end
return 1
