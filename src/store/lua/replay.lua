-- Put a receiver's dead deliveries back in its queue, in their original acceptance order, with a
-- fresh retry schedule; the receiver's backoff is cleared. Either those dead since a time, or
-- only the named ones (ids that are not dead letters of this receiver are skipped).
-- A replayed delivery goes back into the queue (it is unfinished again) and into the retry set,
-- due at once: its first attempt was made long ago, so it is claimed as a retry (claim.lua).
-- Its message is unfinished again, so it no longer expires (includes/retention.lua); dead
-- letters older than the retention (their messages are gone) are dropped first.
-- KEYS[1] dead set, KEYS[2] queue, KEYS[3] receiver hash, KEYS[4] retry set
-- ARGV[1] since (ms), ARGV[2] key prefix, ARGV[3] receiver id, ARGV[4] retention ms,
-- ARGV[5..] message ids (optional)
-- Returns how many deliveries were re-queued.
--@include includes/now.lua
--@include includes/keys.lua
--@include includes/delivery.lua
--@include includes/retention.lua
--@include includes/stats.lua
local now = redisNow()
trimDead(ARGV[2], ARGV[3], KEYS[1], now - tonumber(ARGV[4]))
local queued, retrying, dead = 0, 0, 0
local messageIds
if #ARGV > 4 then
  messageIds = {}
  for i = 5, #ARGV do
    if redis.call('ZSCORE', KEYS[1], ARGV[i]) then messageIds[#messageIds + 1] = ARGV[i] end
  end
else
  messageIds = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')
end
local function requeue(delivery)
  delivery.status = 'pending'
  delivery.failures = 0
  delivery.dueAt = 0
end
for _, messageId in ipairs(messageIds) do
  local delivery = changeDelivery(ARGV[2], messageId, ARGV[3], requeue)
  if delivery then
    queued = queued + redis.call('ZADD', KEYS[2], delivery.seq, messageId)
    retrying = retrying + redis.call('ZADD', KEYS[4], 0, messageId)
    -- attempted before: it waits as a retry, the receiver's oldest one if it is older
    redis.call('ZADD', ARGV[2] .. ':heads:retrying', 'LT', delivery.seq, ARGV[3])
    reopenDeliveries(ARGV[2], messageId, 1)
  end
  dead = dead - redis.call('ZREM', KEYS[1], messageId)
end
bumpStats(ARGV[2], queued, retrying, dead)
refreshDeadHead(ARGV[2], ARGV[3], KEYS[1])
if #messageIds > 0 then
  redis.call('HSET', KEYS[3], 'failStreak', 0, 'backoffUntil', 0)
  redis.call('HDEL', KEYS[3], 'breakerOpenedAt')
end
return #messageIds
