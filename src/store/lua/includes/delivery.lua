-- One receiver's delivery of a message, changed in place: `change(delivery)` edits the decoded
-- state, which is written back. Returns the delivery, or nil when there is none (its message is
-- gone). Needs includes/keys.lua.
local function changeDelivery(key, receiverId, change)
  local field = deliveryField(receiverId)
  local raw = redis.call('HGET', key, field)
  if not raw then return nil end
  local delivery = cjson.decode(raw)
  change(delivery)
  redis.call('HSET', key, field, cjson.encode(delivery))
  return delivery
end

-- A delivery that will never be sent (its receiver or its message's payload was deleted): final.
-- A `change` for changeDelivery.
local function cancelDelivery(delivery)
  delivery.status = 'cancelled'
  delivery.claim = nil
end
