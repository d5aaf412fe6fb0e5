-- Retention. A message's hash keeps `open`, the number of its deliveries that are not final
-- (delivered, dead and cancelled are final). The script that closes the last one sets the hash
-- (and with it every delivery and attempt of the message: includes/keys.lua) to expire `retention`
-- ms later (Redis expiry: no sweep ever walks the messages); a resend or replay that opens one
-- again takes the expiry off. The idempotency key never outlives its message (a repeat would be
-- answered with a message that is gone) nor its own 24 h: both get the same end, so a key that is
-- there names a message that is (accept.lua trusts it).
-- The message's hash and its idempotency key are the script's KEYS: the caller builds the latter
-- from the key's name, which it read from the message beforehand (set by accept, never changed
-- after); `idemKey` is only touched when the message has one. Needs includes/now.lua.

-- The message's idempotency key's name and its end (ms), as accept stored them: a claim hands them
-- out with the delivery, so a record needs no read for them.
local function messageIdem(messageKey)
  local fields = redis.call('HMGET', messageKey, 'idem', 'idemUntil')
  return fields[1] or '', fields[2] or '0'
end

local function expireMessage(messageKey, idemKey, retentionMs, now, idem, idemUntil)
  local at = now + retentionMs
  redis.call('PEXPIREAT', messageKey, at)
  if idem ~= '' and at < tonumber(idemUntil) then redis.call('PEXPIREAT', idemKey, at) end
end

-- One delivery of the message became final (call it after writing its new state). `idem` and
-- `idemUntil` as messageIdem returns them.
local function closeDelivery(messageKey, idemKey, retentionMs, now, idem, idemUntil)
  local open = redis.call('HINCRBY', messageKey, 'open', -1)
  -- below zero only if the count was lost: the message is taken as final rather than kept forever
  if open < 0 then redis.call('HSET', messageKey, 'open', 0) end
  if open <= 0 then expireMessage(messageKey, idemKey, retentionMs, now, idem, idemUntil) end
end

-- `count` deliveries of the message are unfinished again (call it after writing their new state).
-- `idemName` is the idempotency key's name the caller read ('' = none): `idemKey` is its key.
local function reopenDeliveries(messageKey, idemKey, idemName, count)
  redis.call('HINCRBY', messageKey, 'open', count)
  redis.call('PERSIST', messageKey)
  local idem, idemUntil = messageIdem(messageKey)
  if idem ~= '' and idem == idemName then redis.call('PEXPIREAT', idemKey, idemUntil) end
end
