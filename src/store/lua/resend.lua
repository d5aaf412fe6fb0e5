-- Send a stored message again, in one shard group (src/store/keys.ts; store/messages.ts calls it
-- per group, the home group last): each named receiver of the group gets a fresh delivery at the
-- back of its queue (a delivery still waiting in a queue is left where it is). The attempt history
-- is kept. A group without a copy of the message gets one, made from the home copy's fields.
-- A message with an unfinished delivery again no longer expires (includes/retention.lua).
-- Receivers deleted since, or of another tenant than the message's, are skipped (the caller
-- checked receivers named explicitly).
-- KEYS[1] the message's idempotency key (the home group's call, when it has one; else any key of the
-- group), then the group (includes/groups.lua): its copy of the message, its sequence, its four
-- statistics keys, per receiver its hash, its queue, its dead set
-- ARGV[1] message id, ARGV[2] the message's fields for a copy to make (JSON: eventType, payload,
-- createdAt, tp, tenant; '' = the home group, whose copy must exist), ARGV[3] the receivers resent
-- in other groups (comma-separated; given to the home group's call, so that its copy lists every
-- receiver), ARGV[4] the idempotency key's name as the caller read it from the home copy ('' =
-- none), then the group: its receiver count n, its n receiver ids
-- Returns {'not-found'} | {'payload-deleted'} | {'resent', receiverIds...}
--@include includes/now.lua
--@include includes/keys.lua
--@include includes/retention.lua
--@include includes/stats.lua
--@include includes/groups.lua
-- per receiver: its hash, its queue, its dead set
local group = readGroups(2, 5, 3)[1]
if redis.call('EXISTS', group.copy) == 0 then
  if ARGV[2] == '' then return {'not-found'} end
  local base = cjson.decode(ARGV[2])
  local fields = {'eventType', base.eventType, 'payload', base.payload, 'createdAt', base.createdAt, 'open', 0}
  if base.tp ~= '' then fields[#fields + 1], fields[#fields + 2] = 'tp', base.tp end
  if base.tenant ~= '' then fields[#fields + 1], fields[#fields + 2] = 'tenant', base.tenant end
  redis.call('HSET', group.copy, unpack(fields))
end
-- every copy names the message's receivers (what a read of the home copy answers)
local function nameReceivers(added)
  local known = redis.call('HGET', group.copy, 'receiverIds') or ''
  for receiverId in string.gmatch(ARGV[3], '[^,]+') do added[#added + 1] = receiverId end
  for _, receiverId in ipairs(added) do
    if not string.find(',' .. known .. ',', ',' .. receiverId .. ',', 1, true) then
      known = known == '' and receiverId or (known .. ',' .. receiverId)
    end
  end
  redis.call('HSET', group.copy, 'receiverIds', known)
end
-- its payload deleted (lua/delete-payload.lua) since the caller read it: nothing is resent here,
-- and what other groups resent is named, so that a read shows those deliveries (the caller cancels them)
if redis.call('HEXISTS', group.copy, 'payload') == 0 then
  nameReceivers({})
  return {'payload-deleted'}
end
local tenant = redis.call('HGET', group.copy, 'tenant') or ''

local resent = {'resent'}
local reopened = 0
local unfinished = {pending = true, delivering = true, retrying = true}
for _, receiver in ipairs(group.receivers) do
  local fields = redis.call('HMGET', receiver.keys[1], 'enabled', 'tenant')
  if fields[1] and (fields[2] or '') == tenant then
    local raw = redis.call('HGET', group.copy, deliveryField(receiver.id))
    local delivery = raw and cjson.decode(raw) or {attempts = 0}
    if not unfinished[delivery.status] then
      delivery.status = 'pending'
      delivery.failures = 0
      delivery.dueAt = 0
      delivery.claim = nil
      delivery.seq = redis.call('INCR', group.sequence)
      redis.call('HSET', group.copy, deliveryField(receiver.id), cjson.encode(delivery))
      -- a first attempt with earlier ones: claims read states until its attempt is recorded
      -- (claim.lua); a receiver without the count is read that way anyway
      if (delivery.attempts or 0) > 0 and redis.call('HEXISTS', receiver.keys[1], 'reopened') == 1 then
        redis.call('HINCRBY', receiver.keys[1], 'reopened', 1)
      end
      local queued = redis.call('ZADD', receiver.keys[2], delivery.seq, ARGV[1])
      redis.call('ZADD', group.stats.pending, 'NX', delivery.seq, receiver.id)
      local dead = redis.call('ZREM', receiver.keys[3], ARGV[1])
      if dead > 0 then refreshDeadHead(group.stats, receiver.id, receiver.keys[3]) end
      bumpStats(group.stats, queued, 0, -dead)
      reopened = reopened + 1
    end
    resent[#resent + 1] = receiver.id
  end
end
nameReceivers({unpack(resent, 2)})
if reopened > 0 then reopenDeliveries(group.copy, KEYS[1], ARGV[4], reopened) end
return resent
