-- Delete a receiver: cancel its unfinished deliveries and drop its queue, so no emitter can claim
-- anything of it afterwards. A cancelled delivery is final: a message whose deliveries are now all
-- final expires ARGV[2] ms later (includes/retention.lua).
-- The caller names the queued deliveries' message hashes and idempotency keys (it read the queue
-- and the messages' `idem` just before): those still queued are cancelled. Deliveries queued after
-- that read (intake may still name a receiver being deleted) keep the receiver: the reply asks for
-- another call with them, and only a call that leaves the queue empty deletes the receiver itself.
-- KEYS[1] receiver hash, KEYS[2] queue, KEYS[3] dead set, KEYS[4] receivers set, KEYS[5] receivers version,
-- KEYS[6] retry set, KEYS[7] its tenant's receivers (unused without a tenant), KEYS[8..11] the
-- group's statistics keys, then per delivery: its message's hash, the message's idempotency key
-- (the hash again when it has none)
-- ARGV[1] receiver id, ARGV[2] retention ms, then per delivery: its message id, the idempotency
-- key's name as the caller read it ('' = none)
-- Returns 1 when deleted, 0 when there was no such receiver, 2 when deliveries the call did not
-- name are queued (call again with them).
--@include includes/now.lua
--@include includes/keys.lua
--@include includes/delivery.lua
--@include includes/retention.lua
--@include includes/stats.lua
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local stats = statsKeys(8)
local now = redisNow()
local queued, retrying = 0, 0
for i = 0, (#ARGV - 2) / 2 - 1 do
  local messageId, idemName = ARGV[3 + 2 * i], ARGV[4 + 2 * i]
  local messageKey, idemKey = KEYS[12 + 2 * i], KEYS[13 + 2 * i]
  if redis.call('ZSCORE', KEYS[2], messageId) then
    if changeDelivery(messageKey, ARGV[1], cancelDelivery) then
      local idem, idemUntil = messageIdem(messageKey)
      if idem ~= idemName then idem = '' end -- never touch a key the caller did not name
      closeDelivery(messageKey, idemKey, tonumber(ARGV[2]), now, idem, idemUntil)
    end
    queued = queued - redis.call('ZREM', KEYS[2], messageId)
    retrying = retrying - redis.call('ZREM', KEYS[6], messageId)
  end
end
bumpStats(stats, queued, retrying, 0)
if redis.call('ZCARD', KEYS[2]) > 0 then return 2 end
bumpStats(stats, 0, -redis.call('ZCARD', KEYS[6]), -redis.call('ZCARD', KEYS[3]))
for _, head in ipairs({stats.pending, stats.retrying, stats.dead}) do redis.call('ZREM', head, ARGV[1]) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[6])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[7], ARGV[1])
redis.call('INCR', KEYS[5])
return 1
