-- Put dead deliveries of a receiver back in its queue, in their original acceptance order, with a
-- fresh retry schedule; the receiver's backoff is cleared. The caller names them (those dead since
-- a time, or the ones asked for, as it read them just before, with their messages' `idem`); ids
-- that are not dead letters of this receiver (any more) are skipped.
-- A replayed delivery goes back into the queue (it is unfinished again) and into the retry set,
-- due at once: its first attempt was made long ago, so it is claimed as a retry (claim.lua).
-- Its message is unfinished again, so it no longer expires (includes/retention.lua); dead
-- letters older than the retention (their messages are gone) are dropped first.
-- KEYS[1] dead set, KEYS[2] queue, KEYS[3] receiver hash, KEYS[4] retry set, KEYS[5..8] the group's
-- statistics keys, then per delivery: its message's hash, the message's idempotency key (the hash
-- again when it has none)
-- ARGV[1] receiver id, ARGV[2] retention ms, then per delivery: its message id, the idempotency
-- key's name as the caller read it ('' = none)
-- Returns how many deliveries were re-queued.
--@include includes/now.lua
--@include includes/keys.lua
--@include includes/delivery.lua
--@include includes/retention.lua
--@include includes/stats.lua
local stats = statsKeys(5)
local now = redisNow()
trimDead(stats, KEYS[1], now - tonumber(ARGV[2]))
local queued, retrying, dead = 0, 0, 0
local function requeue(delivery)
  delivery.status = 'pending'
  delivery.failures = 0
  delivery.dueAt = 0
end
local replayed = 0
for i = 0, (#ARGV - 2) / 2 - 1 do
  local messageId = ARGV[3 + 2 * i]
  local messageKey = KEYS[9 + 2 * i]
  if redis.call('ZSCORE', KEYS[1], messageId) then
    local delivery = changeDelivery(messageKey, ARGV[1], requeue)
    if delivery then
      queued = queued + redis.call('ZADD', KEYS[2], delivery.seq, messageId)
      retrying = retrying + redis.call('ZADD', KEYS[4], 0, messageId)
      -- attempted before: it waits as a retry, the receiver's oldest one if it is older
      redis.call('ZADD', stats.retrying, 'LT', delivery.seq, ARGV[1])
      reopenDeliveries(messageKey, KEYS[10 + 2 * i], ARGV[4 + 2 * i], 1)
    end
    dead = dead - redis.call('ZREM', KEYS[1], messageId)
    replayed = replayed + 1
  end
end
bumpStats(stats, queued, retrying, dead)
refreshDeadHead(stats, ARGV[1], KEYS[1])
if replayed > 0 then
  redis.call('HSET', KEYS[3], 'failStreak', 0, 'backoffUntil', 0)
  redis.call('HDEL', KEYS[3], 'breakerOpenedAt')
end
return replayed
