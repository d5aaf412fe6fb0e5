-- Record one attempt and move its delivery on, for the holder of the receiver's lock.
--
-- Fencing as in claim.lua: a fence lower than the receiver's mark is refused with 'fenced' and
-- the delivery and the receiver are left exactly as the newer holder has them (no state, no
-- backoff, no health field). The attempt itself is still appended to the history, refused or
-- not: it is a request that really reached the receiver, and the history is the account of what
-- was sent (its record carries the stale fence, so it reads as such), not of what counted. A
-- completion whose delivery is no longer its claim (cancelled by a delete meanwhile) is 'stale'.
--
-- "Now" (backoffUntil, dueAt, lastSuccessAt/lastFailureAt, time of death, dyingSince) is Redis's
-- TIME, the one clock every emitter shares; ARGV carries only durations.
--
-- KEYS[1] receiver hash, KEYS[2] receiver queue, KEYS[3] deliveries hash, KEYS[4] attempts list,
-- KEYS[5] receiver dead set, KEYS[6] receivers version
-- ARGV[1] receiver id, ARGV[2] message id, ARGV[3] claim token, ARGV[4] fence, ARGV[5] lock service,
-- ARGV[6] attempt JSON, ARGV[7] outcome: delivered | failed | gone | aborted,
-- ARGV[8] retry delay (ms, for failed), ARGV[9] '1' when this failure was the last attempt,
-- ARGV[10] disable the receiver once its deliveries have kept dying for this long (ms),
-- ARGV[11] the disabledReason to give it then
--
-- Returns the delivery's new status, or 'fenced' / 'stale' / 'missing'.
redis.call('RPUSH', KEYS[4], ARGV[6])
local fenceField = 'maxFence:' .. ARGV[5]
local fence = tonumber(ARGV[4])
local maxFence = tonumber(redis.call('HGET', KEYS[1], fenceField) or '0')
if fence < maxFence then return 'fenced' end
-- only on a receiver that still exists: the mark must not bring a deleted receiver's hash back
if fence > maxFence and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], fenceField, string.format('%d', fence))
end
local raw = redis.call('HGET', KEYS[3], ARGV[1])
if not raw then return 'missing' end
local delivery = cjson.decode(raw)
if delivery.status ~= 'delivering' or delivery.claim ~= ARGV[3] then return 'stale' end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local outcome = ARGV[7]
delivery.claim = nil
delivery.attempts = delivery.attempts + 1
if outcome == 'delivered' then
  delivery.status = 'delivered'
  redis.call('ZREM', KEYS[2], ARGV[2])
  redis.call('HSET', KEYS[1], 'failStreak', 0, 'backoffUntil', 0, 'lastSuccessAt', now)
  redis.call('HDEL', KEYS[1], 'dyingSince')
elseif outcome == 'aborted' then
  -- the lock was lost mid-request: not the receiver's fault, the next holder sends it again
  delivery.status = 'retrying'
elseif outcome == 'gone' then
  delivery.status = 'retrying'
  redis.call('HSET', KEYS[1], 'enabled', '0', 'disabledReason', 'gone', 'lastFailureAt', now)
  redis.call('INCR', KEYS[6])
else
  local retryAt = now + tonumber(ARGV[8])
  delivery.failures = delivery.failures + 1
  redis.call('HINCRBY', KEYS[1], 'failStreak', 1)
  redis.call('HSET', KEYS[1], 'lastFailureAt', now, 'backoffUntil', retryAt)
  if ARGV[9] == '1' then
    delivery.status = 'dead'
    redis.call('ZREM', KEYS[2], ARGV[2])
    redis.call('ZADD', KEYS[5], now, ARGV[2])
    -- a receiver whose deliveries keep dying, with no success in between, is disabled in the end
    local dyingSince = tonumber(redis.call('HGET', KEYS[1], 'dyingSince') or '')
    if not dyingSince then
      redis.call('HSET', KEYS[1], 'dyingSince', now)
    elseif now - dyingSince >= tonumber(ARGV[10]) then
      redis.call('HSET', KEYS[1], 'enabled', '0', 'disabledReason', ARGV[11])
      redis.call('INCR', KEYS[6])
    end
  else
    delivery.status = 'retrying'
    delivery.dueAt = retryAt
  end
end
redis.call('HSET', KEYS[3], ARGV[1], cjson.encode(delivery))
return delivery.status
