-- Drops dead letters past the retention (their messages have expired) from the receivers whose
-- oldest one is that old, at most ARGV[3] receivers per call, found through `heads:dead`
-- (includes/stats.lua) without looking at any other receiver. Run periodically by emitters, so the
-- dead-letter count falls when a receiver that stopped failing has its old letters expire.
-- KEYS[1] heads:dead
-- ARGV[1] key prefix, ARGV[2] retention ms, ARGV[3] most receivers to trim
-- Returns how many receivers were trimmed (ARGV[3]: call again).
--@include includes/now.lua
--@include includes/stats.lua
local cutoff = redisNow() - tonumber(ARGV[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%d', cutoff), 'LIMIT', 0, tonumber(ARGV[3]))
for _, receiverId in ipairs(due) do
  local deadKey = ARGV[1] .. ':dead:' .. receiverId
  trimDead(ARGV[1], receiverId, deadKey, cutoff)
  refreshDeadHead(ARGV[1], receiverId, deadKey)
end
return #due
