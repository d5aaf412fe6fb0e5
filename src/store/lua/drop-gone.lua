-- Drop deliveries whose message is gone from a receiver's queue and retry set: a claimed window's
-- holder found their message hashes missing (expired or removed: lua/claim.lua names deliveries,
-- the holder reads their messages), and a gone message must never block the queue. Checked again
-- here, so a message that is there (or has the receiver's delivery) is left alone. A message that
-- is there without its payload (lua/delete-payload.lua ran after the claim, or a resend raced it)
-- can never be sent: its delivery is cancelled and dropped too.
-- KEYS[1] queue, KEYS[2] retry set, KEYS[3..6] the group's statistics keys, then per delivery its
-- message's hash
-- ARGV[1] receiver id, ARGV[2] retention ms, ARGV[3..] the message ids, in the order of their keys
-- Returns how many were dropped.
--@include includes/now.lua
--@include includes/keys.lua
--@include includes/delivery.lua
--@include includes/retention.lua
--@include includes/stats.lua
local stats = statsKeys(3)
local field = deliveryField(ARGV[1])
local dropped = 0
for i = 3, #ARGV do
  local messageKey = KEYS[4 + i]
  local found = redis.call('HMGET', messageKey, field, 'payload')
  if found[1] and not found[2] and redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    changeDelivery(messageKey, ARGV[1], cancelDelivery)
    -- the idempotency key is not among KEYS: it keeps its own end (a repeat then answers with the id)
    closeDelivery(messageKey, messageKey, tonumber(ARGV[2]), redisNow(), '', '0')
  end
  if not (found[1] and found[2]) then
    dropDelivery(stats, KEYS[1], KEYS[2], ARGV[i])
    dropped = dropped + 1
  end
end
return dropped
