-- Drop deliveries whose message is gone from a receiver's queue and retry set: a claimed window's
-- holder found their message hashes missing (expired or removed: lua/claim.lua names deliveries,
-- the holder reads their messages), and a gone message must never block the queue. Checked again
-- here, so a message that is there (or has the receiver's delivery) is left alone.
-- KEYS[1] queue, KEYS[2] retry set, KEYS[3..6] the group's statistics keys, then per delivery its
-- message's hash
-- ARGV[1] receiver id, ARGV[2..] the message ids, in the order of their keys
-- Returns how many were dropped.
--@include includes/keys.lua
--@include includes/stats.lua
local stats = statsKeys(3)
local field = deliveryField(ARGV[1])
local dropped = 0
for i = 2, #ARGV do
  if redis.call('HEXISTS', KEYS[5 + i], field) == 0 then
    dropDelivery(stats, KEYS[1], KEYS[2], ARGV[i])
    dropped = dropped + 1
  end
end
return dropped
