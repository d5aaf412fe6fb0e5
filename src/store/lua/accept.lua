-- Accept one message: store it, append one delivery per receiver to that receiver's ordered
-- queue, and remember the idempotency key, all in one atomic step, so a crash can never leave a
-- half-accepted message. Nothing is written when the request must be refused.
--
-- KEYS[1] message hash (with its deliveries: includes/keys.lua), KEYS[2] sequence, KEYS[3]
-- receivers version, KEYS[4] idempotency key, KEYS[5] message index, KEYS[6] the tenant's message
-- index (unused without a tenant), KEYS[7] the event-type catalog's version, then for each
-- receiver: its hash, its queue
-- ARGV[1] message id, ARGV[2] event type, ARGV[3] payload JSON, ARGV[4] createdAt,
-- ARGV[5] 'match' (receivers come from the caller's cache of version ARGV[6]) or 'explicit',
-- ARGV[6] receivers version, ARGV[7] idempotency TTL seconds ('0' = no key), ARGV[8] retention ms,
-- ARGV[9] key prefix, ARGV[10] the idempotency key itself, ARGV[11] the W3C traceparent to keep
-- with the message ('' = none: stored only when tracing is on or the producer sent one),
-- ARGV[12] tenant id ('' = none), ARGV[13] the first message id still inside retention (older ones
-- leave the indexes), ARGV[14] the catalog version the payload was validated with, ARGV[15..]
-- receiver ids
--
-- Tenancy is decided here, in the same step as the write: a receiver whose tenant is not the
-- message's (a receiver with none for a message with none) is never chosen; named explicitly it
-- refuses the message as unknown. A tenant's receivers can thus never get another's message,
-- whatever the caller's cache said or whatever was created or deleted meanwhile.
--
-- The payload was checked against the caller's cached event-type catalog: a catalog written since
-- (its version moved) refuses the message ('stale-catalog'), and the caller checks it again.
--
-- Returns {'accepted', id, toWake, receiverIds...} | {'duplicate', firstMessageId} | {'stale'}
--       | {'stale-catalog'} | {'unknown-receiver', id}
-- where toWake lists (comma-separated) the receivers whose queue was empty before this message:
-- only those may lack a drain job. A receiver with deliveries queued already has one, waiting,
-- delayed or running a turn that will claim this message too (and the emitters' reconciler
-- covers any receiver left with work but no job), so a hot receiver costs intake no queue call.
--@include includes/now.lua
--@include includes/keys.lua
--@include includes/retention.lua
--@include includes/stats.lua
local FIRST_RECEIVER = 15
local FIRST_RECEIVER_KEY = 8
local tenant = ARGV[12]
local explicit = ARGV[5] == 'explicit'
if ARGV[7] ~= '0' then
  local first = redis.call('GET', KEYS[4])
  -- a key whose message has just expired (the two expire together, one a moment after the other) is free again
  if first and redis.call('EXISTS', messageKeyOf(ARGV[9], first)) == 1 then return {'duplicate', first} end
end
if (redis.call('GET', KEYS[7]) or '0') ~= ARGV[14] then return {'stale-catalog'} end
if not explicit and (redis.call('GET', KEYS[3]) or '0') ~= ARGV[6] then
  return {'stale'}
end

local chosen = {}
for i = FIRST_RECEIVER, #ARGV do
  local receiverKey = KEYS[FIRST_RECEIVER_KEY + (i - FIRST_RECEIVER) * 2]
  local fields = redis.call('HMGET', receiverKey, 'enabled', 'tenant')
  local enabled = fields[1]
  if enabled and (fields[2] or '') ~= tenant then enabled = false end
  if not enabled then
    if explicit then return {'unknown-receiver', ARGV[i]} end
  elseif explicit or enabled == '1' then
    chosen[#chosen + 1] = i
  end
end

local accepted = {'accepted', ARGV[1], ''}
local toWake = {}
local states = {}
for _, i in ipairs(chosen) do
  local receiverId = ARGV[i]
  local queueKey = KEYS[FIRST_RECEIVER_KEY + 1 + (i - FIRST_RECEIVER) * 2]
  local seq = redis.call('INCR', KEYS[2])
  states[#states + 1] = deliveryField(receiverId)
  states[#states + 1] = cjson.encode({status = 'pending', seq = seq, failures = 0, attempts = 0, dueAt = 0})
  if redis.call('ZCARD', queueKey) == 0 then toWake[#toWake + 1] = receiverId end
  redis.call('ZADD', queueKey, seq, ARGV[1])
  -- the receiver's oldest never-attempted delivery, unless it has an older one already
  redis.call('ZADD', ARGV[9] .. ':heads:pending', 'NX', seq, receiverId)
  accepted[#accepted + 1] = receiverId
end
bumpStats(ARGV[9], #accepted - 3, 0, 0)
accepted[3] = table.concat(toWake, ',')
-- a turn lingering on an emptied queue hears of its new work at once (store/notices.ts, drain.ts)
for _, receiverId in ipairs(toWake) do redis.call('PUBLISH', ARGV[9] .. ':work', receiverId) end
local receiverIds = {unpack(accepted, 4)}
local fields = {'eventType', ARGV[2], 'payload', ARGV[3], 'createdAt', ARGV[4], 'receiverIds', table.concat(receiverIds, ','), 'open', #receiverIds}
for _, field in ipairs(states) do fields[#fields + 1] = field end
if ARGV[11] ~= '' then
  fields[#fields + 1] = 'tp'
  fields[#fields + 1] = ARGV[11]
end
local now, idem, idemUntil = nil, '', '0'
if ARGV[7] ~= '0' then
  now = redisNow()
  idem, idemUntil = ARGV[10], string.format('%d', now + tonumber(ARGV[7]) * 1000)
  redis.call('SET', KEYS[4], ARGV[1], 'EX', ARGV[7])
  -- remembered so that retention can shorten the key's life, and a resend give it back
  fields[#fields + 1] = 'idem'
  fields[#fields + 1] = idem
  fields[#fields + 1] = 'idemUntil'
  fields[#fields + 1] = idemUntil
end
if tenant ~= '' then
  fields[#fields + 1] = 'tenant'
  fields[#fields + 1] = tenant
end
redis.call('HSET', KEYS[1], unpack(fields))
for _, index in ipairs(tenant == '' and {KEYS[5]} or {KEYS[5], KEYS[6]}) do
  redis.call('ZADD', index, 0, ARGV[1])
  -- old ids leave about once a second per process and tenant ('' = not this time): the listing skips ids whose message is gone
  if ARGV[13] ~= '' then redis.call('ZREMRANGEBYLEX', index, '-', '(' .. ARGV[13]) end
end
-- a message that matched no receiver is final at once
if #receiverIds == 0 then expireMessage(ARGV[9], ARGV[1], tonumber(ARGV[8]), now or redisNow(), idem, idemUntil) end
return accepted
