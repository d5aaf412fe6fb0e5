-- Claim the next due delivery of one receiver, in acceptance order. Called only by the emitter
-- that holds the receiver's lock, so a delivery left 'delivering' by a crashed emitter is simply
-- claimed again.
--
-- KEYS[1] receiver hash, KEYS[2] receiver queue
-- ARGV[1] now (ms), ARGV[2] claim token, ARGV[3] key prefix, ARGV[4] receiver id, ARGV[5] look-ahead
--
-- Returns {'gone'} | {'disabled'} | {'empty'} | {'wait', untilMs}
--       | {'send', messageId, attemptNumber, failures, failStreak, receiverConfig, eventType, payload, createdAt}
local receiver = redis.call('HMGET', KEYS[1], 'enabled', 'backoffUntil', 'config', 'failStreak')
if not receiver[1] then return {'gone'} end
if receiver[1] ~= '1' then return {'disabled'} end
local now = tonumber(ARGV[1])
local backoffUntil = tonumber(receiver[2] or '0')
if backoffUntil > now then return {'wait', tostring(backoffUntil)} end

local messageIds = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[5]) - 1)
if #messageIds == 0 then return {'empty'} end
local soonest = nil
for _, messageId in ipairs(messageIds) do
  local deliveriesKey = ARGV[3] .. ':dlv:' .. messageId
  local raw = redis.call('HGET', deliveriesKey, ARGV[4])
  if not raw then
    -- the message is gone (expired or removed): never let it block the queue
    redis.call('ZREM', KEYS[2], messageId)
  else
    local delivery = cjson.decode(raw)
    if delivery.dueAt <= now then
      delivery.status = 'delivering'
      delivery.claim = ARGV[2]
      redis.call('HSET', deliveriesKey, ARGV[4], cjson.encode(delivery))
      local message = redis.call('HMGET', ARGV[3] .. ':msg:' .. messageId, 'eventType', 'payload', 'createdAt')
      return {'send', messageId, tostring(delivery.attempts + 1), tostring(delivery.failures),
              receiver[4] or '0', receiver[3], message[1], message[2], message[3]}
    end
    if soonest == nil or delivery.dueAt < soonest then soonest = delivery.dueAt end
  end
end
return {'wait', string.format('%d', soonest or now)}
