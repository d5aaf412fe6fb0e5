-- Counts the queue statistics (includes/stats.lua) from every receiver's sets, once: for an
-- installation whose counters were never kept (new, or upgraded from a version without them).
-- Every process runs it on connecting; after the first it is one HEXISTS. It walks every receiver
-- in one atomic step (a few commands per receiver), so no change made meanwhile is counted twice.
-- The caller names every receiver of the group (read just before); when the receivers set no
-- longer holds exactly those, nothing is counted and the caller reads them again.
-- DEL the stats hash to have it counted again.
-- KEYS[1..4] the group's statistics keys, KEYS[5] receivers set, then per receiver: its hash, its
-- queue, its retry set, its dead set
-- ARGV: the receiver ids, in the order of their keys
-- Returns 1 when it counted, 0 when the counters were kept already, -1 when the receivers changed.
--@include includes/now.lua
--@include includes/stats.lua
local stats = statsKeys(1)
if redis.call('HEXISTS', stats.counters, 'since') == 1 then return 0 end
if redis.call('ZCARD', KEYS[5]) ~= #ARGV then return -1 end
if #ARGV > 0 then
  for _, score in ipairs(redis.call('ZMSCORE', KEYS[5], unpack(ARGV))) do
    if not score then return -1 end
  end
end
local queued, retrying, dead = 0, 0, 0
redis.call('DEL', stats.pending, stats.retrying, stats.dead)
for i, receiverId in ipairs(ARGV) do
  local receiverKey, queueKey, retriesKey, deadKey = KEYS[2 + 4 * i], KEYS[3 + 4 * i], KEYS[4 + 4 * i], KEYS[5 + 4 * i]
  queued = queued + redis.call('ZCARD', queueKey)
  retrying = retrying + redis.call('ZCARD', retriesKey)
  dead = dead + redis.call('ZCARD', deadKey)
  refreshHeads(stats, receiverId, queueKey, tonumber(redis.call('HGET', receiverKey, 'frontier') or '0'))
  refreshDeadHead(stats, receiverId, deadKey)
end
redis.call('HSET', stats.counters, 'queued', queued, 'retrying', retrying, 'dead', dead, 'since', redisNow())
return 1
