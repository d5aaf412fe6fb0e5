-- Record one attempt and move its delivery on. The attempt is always kept in the history; the
-- delivery's state only changes if the claim is still ours (a stale emitter waking from a pause
-- may report late: its attempt is recorded, but it cannot undo the new holder's work).
--
-- KEYS[1] receiver hash, KEYS[2] receiver queue, KEYS[3] deliveries hash, KEYS[4] attempts list,
-- KEYS[5] receiver dead set, KEYS[6] receivers version
-- ARGV[1] receiver id, ARGV[2] message id, ARGV[3] claim token, ARGV[4] attempt JSON,
-- ARGV[5] outcome: delivered | failed | gone | aborted, ARGV[6] now (ms),
-- ARGV[7] retry delay (ms, for failed), ARGV[8] '1' when this failure was the last attempt,
-- ARGV[9] disable the receiver once its deliveries have kept dying for this long (ms),
-- ARGV[10] the disabledReason to give it then
--
-- Returns the delivery's new status, or 'stale' / 'missing'.
redis.call('RPUSH', KEYS[4], ARGV[4])
local raw = redis.call('HGET', KEYS[3], ARGV[1])
if not raw then return 'missing' end
local delivery = cjson.decode(raw)
if delivery.status ~= 'delivering' or delivery.claim ~= ARGV[3] then return 'stale' end

local now = tonumber(ARGV[6])
local outcome = ARGV[5]
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
  local retryAt = now + tonumber(ARGV[7])
  delivery.failures = delivery.failures + 1
  redis.call('HINCRBY', KEYS[1], 'failStreak', 1)
  redis.call('HSET', KEYS[1], 'lastFailureAt', now, 'backoffUntil', retryAt)
  if ARGV[8] == '1' then
    delivery.status = 'dead'
    redis.call('ZREM', KEYS[2], ARGV[2])
    redis.call('ZADD', KEYS[5], now, ARGV[2])
    -- a receiver whose deliveries keep dying, with no success in between, is disabled in the end
    local dyingSince = tonumber(redis.call('HGET', KEYS[1], 'dyingSince') or '')
    if not dyingSince then
      redis.call('HSET', KEYS[1], 'dyingSince', now)
    elseif now - dyingSince >= tonumber(ARGV[9]) then
      redis.call('HSET', KEYS[1], 'enabled', '0', 'disabledReason', ARGV[10])
      redis.call('INCR', KEYS[6])
    end
  else
    delivery.status = 'retrying'
    delivery.dueAt = retryAt
  end
end
redis.call('HSET', KEYS[3], ARGV[1], cjson.encode(delivery))
return delivery.status
