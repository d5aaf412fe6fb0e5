-- Delete a receiver: cancel its unfinished deliveries and drop its queue in one step, so no
-- emitter can claim anything of it afterwards. A cancelled delivery is final: a message whose
-- deliveries are now all final expires ARGV[3] ms later (includes/retention.lua).
-- KEYS[1] receiver hash, KEYS[2] queue, KEYS[3] dead set, KEYS[4] receivers set, KEYS[5] receivers version,
-- KEYS[6] retry set, KEYS[7] its tenant's receivers (unused without a tenant)
-- ARGV[1] receiver id, ARGV[2] key prefix, ARGV[3] retention ms
-- Returns 1 when deleted, 0 when there was no such receiver.
--@include includes/now.lua
--@include includes/keys.lua
--@include includes/delivery.lua
--@include includes/retention.lua
--@include includes/stats.lua
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local now = redisNow()
local function cancel(delivery)
  delivery.status = 'cancelled'
  delivery.claim = nil
end
for _, messageId in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  if changeDelivery(ARGV[2], messageId, ARGV[1], cancel) then
    local idem, idemUntil = messageIdem(ARGV[2], messageId)
    closeDelivery(ARGV[2], messageId, tonumber(ARGV[3]), now, idem, idemUntil)
  end
end
bumpStats(ARGV[2], -redis.call('ZCARD', KEYS[2]), -redis.call('ZCARD', KEYS[6]), -redis.call('ZCARD', KEYS[3]))
for _, kind in ipairs({'pending', 'retrying', 'dead'}) do redis.call('ZREM', ARGV[2] .. ':heads:' .. kind, ARGV[1]) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[6])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[7], ARGV[1])
redis.call('INCR', KEYS[5])
return 1
