-- Counts the queue statistics (includes/stats.lua) from every receiver's sets, once: for an
-- installation whose counters were never kept (new, or upgraded from a version without them).
-- Every process runs it on connecting; after the first it is one HEXISTS. It walks every receiver
-- in one atomic step (a few commands per receiver), so no change made meanwhile is counted twice.
-- DEL the stats hash to have it counted again.
-- KEYS[1] stats hash, KEYS[2] receivers set
-- ARGV[1] key prefix
-- Returns 1 when it counted, 0 when the counters were kept already.
--@include includes/now.lua
--@include includes/stats.lua
if redis.call('HEXISTS', KEYS[1], 'since') == 1 then return 0 end
local prefix = ARGV[1]
local queued, retrying, dead = 0, 0, 0
redis.call('DEL', prefix .. ':heads:pending', prefix .. ':heads:retrying', prefix .. ':heads:dead')
for _, receiverId in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local queueKey, deadKey = prefix .. ':q:' .. receiverId, prefix .. ':dead:' .. receiverId
  queued = queued + redis.call('ZCARD', queueKey)
  retrying = retrying + redis.call('ZCARD', prefix .. ':rt:' .. receiverId)
  dead = dead + redis.call('ZCARD', deadKey)
  refreshHeads(prefix, receiverId, queueKey, tonumber(redis.call('HGET', prefix .. ':rcv:' .. receiverId, 'frontier') or '0'))
  refreshDeadHead(prefix, receiverId, deadKey)
end
redis.call('HSET', KEYS[1], 'queued', queued, 'retrying', retrying, 'dead', dead, 'since', redisNow())
return 1
