-- Replace a catalogued event type only if it is still the one the caller read: compare and set, so
-- two PATCHes racing each other never drop one's fields (the loser reads again and applies its
-- change on top) and a PATCH racing a DELETE never brings the type back.
-- KEYS[1] the event-type catalog hash, KEYS[2] the catalog's version (bumped: intake's cached catalogs go stale)
-- ARGV[1] the type's name, ARGV[2] the stored type as read, ARGV[3] the new stored type
-- Returns 'gone' | 'changed' | 'replaced'
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 'gone' end
if current ~= ARGV[2] then return 'changed' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('INCR', KEYS[2])
return 'replaced'
