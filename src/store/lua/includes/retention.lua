-- Retention. A message's hash keeps `open`, the number of its deliveries that are not final
-- (delivered, dead and cancelled are final). The script that closes the last one sets the hash
-- (and with it every delivery and attempt of the message: includes/keys.lua) to expire `retention`
-- ms later (Redis expiry: no sweep ever walks the messages); a resend or replay that opens one
-- again takes the expiry off. The idempotency key never outlives its message (a repeat would be
-- answered with a message that is gone) nor its own 24 h.
-- Needs includes/now.lua and includes/keys.lua. `prefix` is the installation's key prefix.

-- The message's idempotency key and its end (ms), as accept.lua stored them (never changed after):
-- a claim hands them out with the delivery, so a record needs no read for them.
local function messageIdem(prefix, messageId)
  local fields = redis.call('HMGET', messageKeyOf(prefix, messageId), 'idem', 'idemUntil')
  return fields[1] or '', fields[2] or '0'
end

local function expireMessage(prefix, messageId, retentionMs, now, idem, idemUntil)
  redis.call('PEXPIRE', messageKeyOf(prefix, messageId), retentionMs)
  if idem ~= '' and now + retentionMs < tonumber(idemUntil) then redis.call('PEXPIRE', prefix .. ':idem:' .. idem, retentionMs) end
end

-- One delivery of the message became final (call it after writing its new state). `idem` and
-- `idemUntil` as messageIdem returns them.
local function closeDelivery(prefix, messageId, retentionMs, now, idem, idemUntil)
  local open = redis.call('HINCRBY', messageKeyOf(prefix, messageId), 'open', -1)
  -- below zero only if the count was lost: the message is taken as final rather than kept forever
  if open < 0 then redis.call('HSET', messageKeyOf(prefix, messageId), 'open', 0) end
  if open <= 0 then expireMessage(prefix, messageId, retentionMs, now, idem, idemUntil) end
end

-- `count` deliveries of the message are unfinished again (call it after writing their new state).
local function reopenDeliveries(prefix, messageId, count)
  local key = messageKeyOf(prefix, messageId)
  redis.call('HINCRBY', key, 'open', count)
  redis.call('PERSIST', key)
  local idem, idemUntil = messageIdem(prefix, messageId)
  if idem ~= '' then redis.call('PEXPIREAT', prefix .. ':idem:' .. idem, idemUntil) end
end
