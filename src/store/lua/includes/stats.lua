-- Queue statistics kept by the scripts that change the queues, so that /metrics and /v1/stats read
-- a few keys instead of every receiver's (issue 12). `<prefix>:stats` counts `queued` (every
-- unfinished delivery: the queues' sizes), `retrying` (those waiting for another attempt: the
-- retry sets' sizes) and `dead` (the dead sets' sizes); each script adds what its own ZADD/ZREM
-- replies say changed. Per receiver, three "heads" sorted sets (member = receiver id) point at the
-- oldest of each kind: `heads:pending` (score = sequence of its oldest never-attempted delivery:
-- the first queue member above `frontier`), `heads:retrying` (its oldest delivery attempted
-- before: queue members at or below `frontier` are exactly its retry set) and `heads:dead`
-- (time of its oldest dead letter, so expired ones are trimmed without a scan).
-- A script is given a group's four statistics keys side by side in KEYS (Keys.statsKeys in
-- src/store/keys.ts: counters, heads:pending, heads:retrying, heads:dead): `statsKeys(n)` reads
-- them from KEYS[n]; the functions below take that table, so no script builds a key name.

local function statsKeys(first)
  return {counters = KEYS[first], pending = KEYS[first + 1], retrying = KEYS[first + 2], dead = KEYS[first + 3]}
end

local function bumpStats(stats, queued, retrying, dead)
  if queued ~= 0 then redis.call('HINCRBY', stats.counters, 'queued', queued) end
  if retrying ~= 0 then redis.call('HINCRBY', stats.counters, 'retrying', retrying) end
  if dead ~= 0 then redis.call('HINCRBY', stats.counters, 'dead', dead) end
end

local function setHead(key, score, receiverId)
  if score then redis.call('ZADD', key, score, receiverId) else redis.call('ZREM', key, receiverId) end
end

-- The receiver's pending and retrying heads, from its queue and `frontier` (one read when it has no
-- retry). Returns whether the queue still holds anything.
local function refreshHeads(stats, receiverId, queueKey, frontier)
  local oldest = redis.call('ZRANGE', queueKey, 0, 0, 'WITHSCORES')[2]
  local retryingHead = oldest and tonumber(oldest) <= frontier and oldest or nil
  setHead(stats.retrying, retryingHead, receiverId)
  local pendingHead = oldest
  if retryingHead then
    pendingHead = redis.call('ZRANGEBYSCORE', queueKey, '(' .. string.format('%d', frontier), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)[2]
  end
  setHead(stats.pending, pendingHead, receiverId)
  return oldest ~= nil
end

local function refreshDeadHead(stats, receiverId, deadKey)
  setHead(stats.dead, redis.call('ZRANGE', deadKey, 0, 0, 'WITHSCORES')[2], receiverId)
end

-- Drops dead letters that died before `cutoff` (ms): their messages are gone (retention).
local function trimDead(stats, deadKey, cutoff)
  local removed = redis.call('ZREMRANGEBYSCORE', deadKey, '-inf', '(' .. string.format('%d', cutoff))
  if removed > 0 then bumpStats(stats, 0, 0, -removed) end
  return removed
end

-- A delivery whose message is gone leaves the receiver's queue and retry set.
local function dropDelivery(stats, queueKey, retriesKey, messageId)
  bumpStats(stats, -redis.call('ZREM', queueKey, messageId), -redis.call('ZREM', retriesKey, messageId), 0)
end
