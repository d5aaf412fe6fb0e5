-- Take the receivers whose next turn is due (Redis's clock) off the wake set, at most ARGV[1] of
-- them; the caller gives each a drain job. An emitter that dies in between leaves them with work
-- and no job, which the reconciler finds.
-- KEYS[1] wake set; ARGV[1] limit
-- Returns the receiver ids.
--@include includes/now.lua
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', redisNow(), 'LIMIT', 0, tonumber(ARGV[1]))
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
