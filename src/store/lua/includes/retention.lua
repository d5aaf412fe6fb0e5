-- Retention. A message's hash keeps `open`, the number of its deliveries that are not final
-- (delivered, dead and cancelled are final). The script that closes the last one sets every key
-- of the message to expire `retention` ms later (Redis expiry: no sweep ever walks the messages);
-- a resend or replay that opens one again takes the expiry off. The idempotency key never
-- outlives its message (a repeat would be answered with a message that is gone) nor its own 24 h.
-- Needs includes/now.lua and includes/keys.lua. `prefix` is the installation's key prefix.

-- The message's keys, and its idempotency key's name and end (ms) when it has one. One HMGET:
-- `receiverIds` names every receiver of its deliveries hash (accept and resend keep both).
local function messageKeys(prefix, messageId)
  local fields = redis.call('HMGET', messageKeyOf(prefix, messageId), 'receiverIds', 'idem', 'idemUntil', 'legacy')
  local keys = {messageKeyOf(prefix, messageId), deliveriesKeyOf(prefix, messageId)}
  -- the whole-message attempts list of a message stored before per-delivery lists
  if fields[4] then keys[#keys + 1] = prefix .. ':att:' .. messageId end
  for receiverId in string.gmatch(fields[1] or '', '[^,]+') do
    keys[#keys + 1] = attemptsKeyOf(prefix, messageId, receiverId)
  end
  return keys, fields[2], tonumber(fields[3] or '0')
end

local function expireMessage(prefix, messageId, retentionMs, now)
  local keys, idem, idemUntil = messageKeys(prefix, messageId)
  for _, key in ipairs(keys) do redis.call('PEXPIRE', key, retentionMs) end
  if idem and now + retentionMs < idemUntil then redis.call('PEXPIRE', prefix .. ':idem:' .. idem, retentionMs) end
end

local function keepMessage(prefix, messageId, now)
  local keys, idem, idemUntil = messageKeys(prefix, messageId)
  for _, key in ipairs(keys) do redis.call('PERSIST', key) end
  if idem and idemUntil > now then redis.call('PEXPIREAT', prefix .. ':idem:' .. idem, idemUntil) end
end

-- Counts the open deliveries from their states: for messages stored before `open` existed.
local function countOpen(prefix, messageId)
  local open = 0
  for _, raw in ipairs(redis.call('HVALS', deliveriesKeyOf(prefix, messageId))) do
    local status = cjson.decode(raw).status
    if status == 'pending' or status == 'delivering' or status == 'retrying' then open = open + 1 end
  end
  -- stored before `open` existed: its attempts may be in the whole-message list too
  redis.call('HSET', messageKeyOf(prefix, messageId), 'open', open, 'legacy', 1)
  return open
end

-- One delivery of the message became final (call it after writing its new state).
local function closeDelivery(prefix, messageId, retentionMs, now)
  local open = redis.call('HINCRBY', messageKeyOf(prefix, messageId), 'open', -1)
  if open < 0 then open = countOpen(prefix, messageId) end
  if open == 0 then expireMessage(prefix, messageId, retentionMs, now) end
end

-- `count` deliveries of the message are unfinished again (call it after writing their new state).
local function reopenDeliveries(prefix, messageId, count, now)
  local messageKey = messageKeyOf(prefix, messageId)
  if redis.call('HEXISTS', messageKey, 'open') == 1 then redis.call('HINCRBY', messageKey, 'open', count)
  else countOpen(prefix, messageId) end
  keepMessage(prefix, messageId, now)
end

-- Keeps a delivery's attempts list at its first 3 and last 10 attempts. Past 13, the 4th entry is
-- a marker {"omitted": n} counting those dropped between. Call it after each RPUSH (its reply).
local function trimAttempts(key, length)
  if length == 14 then
    redis.call('LSET', key, 3, '{"omitted":1}')
  elseif length > 14 then
    local omitted = cjson.decode(redis.call('LINDEX', key, 3)).omitted or 0
    redis.call('LSET', key, 3, cjson.encode({omitted = omitted + 1}))
    redis.call('LSET', key, 4, '')
    redis.call('LREM', key, 1, '')
  end
end
