-- Drops dead letters past the retention (their messages have expired) from the receivers whose
-- oldest one is that old, found through `heads:dead` (includes/stats.lua) without looking at any
-- other receiver. Run periodically by emitters, so the dead-letter count falls when a receiver
-- that stopped failing has its old letters expire. The caller names the receivers with the oldest
-- heads (read just before); those whose head is not past the retention (on Redis's clock) are left.
-- KEYS[1..4] the group's statistics keys, then per receiver: its dead set
-- ARGV[1] retention ms, ARGV[2..] the receiver ids, in the order of their keys
-- Returns how many receivers were trimmed.
--@include includes/now.lua
--@include includes/stats.lua
local stats = statsKeys(1)
local cutoff = redisNow() - tonumber(ARGV[1])
local trimmed = 0
for i = 2, #ARGV do
  local head = redis.call('ZSCORE', stats.dead, ARGV[i])
  if head and tonumber(head) < cutoff then
    local deadKey = KEYS[3 + i]
    trimDead(stats, deadKey, cutoff)
    refreshDeadHead(stats, ARGV[i], deadKey)
    trimmed = trimmed + 1
  end
end
return trimmed
