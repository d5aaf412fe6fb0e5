-- Claim the next due delivery of one receiver, in acceptance order, for the holder of its lock.
-- A delivery left 'delivering' by a crashed holder is simply claimed again.
--
-- Fencing: the receiver hash keeps the highest fence any claim or completion has shown,
-- `maxFence:<lock service>` (fences of different lock services are unrelated numbers, so a switch
-- of backend starts a mark of its own instead of being refused forever). A lower fence belongs to
-- a holder that lost the lock to a newer one: refused, nothing changes, so a late claim from a
-- paused or partitioned holder can never take back a delivery the newer holder claimed. An equal
-- or higher fence raises the mark, which fences out every older holder from then on.
-- A lock service rebuilt from scratch restarts its fences low, and every holder is refused until
-- they pass the mark again (emitters warn "store refused our fence" with stillHeldLocally=true):
-- then stop the emitters and HDEL the receivers' `maxFence:<service>` fields.
--
-- "Now" is Redis's TIME: backoffUntil and dueAt were written on the same clock by whichever
-- emitter completed the last attempt, and emitters' own clocks may disagree by minutes.
--
-- KEYS[1] receiver hash, KEYS[2] receiver queue
-- ARGV[1] claim token, ARGV[2] fence, ARGV[3] lock service, ARGV[4] key prefix, ARGV[5] receiver id,
-- ARGV[6] look-ahead
--
-- Returns {'gone'} | {'fenced', maxFence} | {'disabled'} | {'empty'} | {'wait', inMs}
--       | {'send', messageId, attemptNumber, failures, failStreak, receiverConfig, eventType, payload, createdAt}
local receiver = redis.call('HMGET', KEYS[1], 'enabled', 'backoffUntil', 'config', 'failStreak')
-- checked first: a fence mark written now would bring a deleted receiver's hash back
if not receiver[1] then return {'gone'} end
local fenceField = 'maxFence:' .. ARGV[3]
local fence = tonumber(ARGV[2])
local maxFence = tonumber(redis.call('HGET', KEYS[1], fenceField) or '0')
if fence < maxFence then return {'fenced', string.format('%d', maxFence)} end
if fence > maxFence then redis.call('HSET', KEYS[1], fenceField, string.format('%d', fence)) end
if receiver[1] ~= '1' then return {'disabled'} end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local backoffUntil = tonumber(receiver[2] or '0')
if backoffUntil > now then return {'wait', string.format('%d', backoffUntil - now)} end

local messageIds = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[6]) - 1)
if #messageIds == 0 then return {'empty'} end
local soonest = nil
for _, messageId in ipairs(messageIds) do
  local deliveriesKey = ARGV[4] .. ':dlv:' .. messageId
  local raw = redis.call('HGET', deliveriesKey, ARGV[5])
  if not raw then
    -- the message is gone (expired or removed): never let it block the queue
    redis.call('ZREM', KEYS[2], messageId)
  else
    local delivery = cjson.decode(raw)
    if delivery.dueAt <= now then
      delivery.status = 'delivering'
      delivery.claim = ARGV[1]
      redis.call('HSET', deliveriesKey, ARGV[5], cjson.encode(delivery))
      local message = redis.call('HMGET', ARGV[4] .. ':msg:' .. messageId, 'eventType', 'payload', 'createdAt')
      return {'send', messageId, tostring(delivery.attempts + 1), tostring(delivery.failures),
              receiver[4] or '0', receiver[3], message[1], message[2], message[3]}
    end
    if soonest == nil or delivery.dueAt < soonest then soonest = delivery.dueAt end
  end
end
return {'wait', string.format('%d', math.max(0, (soonest or now) - now))}
