-- Add a type to the event-type catalog (only if the name is free) or remove one, and bump the
-- catalog's version only when something changed: intake's cached catalogs then go stale (accept.lua
-- refuses a message checked against an older version), and a refused write changes nothing.
-- KEYS[1] the event-type catalog hash, KEYS[2] the catalog's version
-- ARGV[1] 'create' | 'delete', ARGV[2] the type's name, ARGV[3] the stored type (create)
-- Returns 1 when the catalog changed, 0 when not (the name was taken, or there was no such type)
local changed
if ARGV[1] == 'create' then changed = redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[3])
else changed = redis.call('HDEL', KEYS[1], ARGV[2]) end
if changed == 1 then redis.call('INCR', KEYS[2]) end
return changed
