-- Accept one message: store it, append one delivery per receiver to that receiver's ordered
-- queue, and remember the idempotency key, all in one atomic step, so a crash can never leave a
-- half-accepted message. Nothing is written when the request must be refused.
--
-- Receivers sit in shard groups (src/store/keys.ts; one group on a single Redis): the message is
-- written once into each group that has one of its receivers (that group's copy, with that
-- group's deliveries and its own `open`), and always into its home group (the group of its id,
-- which is the group of its idempotency key when it has one: the caller picks the id so), whose
-- copy holds the idempotency fields.
--
-- KEYS[1] idempotency key (home group), KEYS[2] message index, KEYS[3] the tenant's message index
-- (unused without a tenant), KEYS[4] the event-type catalog's version, KEYS[5] the receivers
-- version, then per group (the home group first): the message's copy, the group's sequence, then
-- per receiver of the group: its hash, its queue
-- ARGV[1] message id, ARGV[2] event type, ARGV[3] payload JSON, ARGV[4] createdAt,
-- ARGV[5] 'match' (receivers come from the caller's cache of version ARGV[6]) or 'explicit',
-- ARGV[6] receivers version, ARGV[7] idempotency TTL seconds ('0' = no key), ARGV[8] retention ms,
-- ARGV[9] the idempotency key itself, ARGV[10] the W3C traceparent to keep with the message ('' =
-- none: stored only when tracing is on or the producer sent one), ARGV[11] tenant id ('' = none),
-- ARGV[12] the first message id still inside retention (older ones leave the indexes; '' = no
-- trim this time), ARGV[13] the catalog version the payload was validated with, ARGV[14] the
-- channel of work notices (store/notices.ts), then per group: its key prefix, its receiver count
-- n, its n receiver ids
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
--@include includes/groups.lua
local tenant = ARGV[11]
local explicit = ARGV[5] == 'explicit'
local withIdem = ARGV[7] ~= '0'

-- per receiver: its hash, its queue
local groups = readGroups(6, 15, 2)
local home = groups[1]

if withIdem then
  local first = redis.call('GET', KEYS[1])
  -- a key whose message has just expired (the two expire together, one a moment after the other) is free again
  if first and redis.call('EXISTS', messageKeyOf(home.prefix, first)) == 1 then return {'duplicate', first} end
end
if (redis.call('GET', KEYS[4]) or '0') ~= ARGV[13] then return {'stale-catalog'} end
if not explicit and (redis.call('GET', KEYS[5]) or '0') ~= ARGV[6] then return {'stale'} end

local receiverIds = {}
for _, group in ipairs(groups) do
  group.chosen = {}
  for _, receiver in ipairs(group.receivers) do
    local fields = redis.call('HMGET', receiver.keys[1], 'enabled', 'tenant')
    local enabled = fields[1]
    if enabled and (fields[2] or '') ~= tenant then enabled = false end
    if not enabled then
      if explicit then return {'unknown-receiver', receiver.id} end
    elseif explicit or enabled == '1' then
      group.chosen[#group.chosen + 1] = receiver
      receiverIds[#receiverIds + 1] = receiver.id
    end
  end
end

local now, idem, idemUntil = nil, '', '0'
if withIdem then
  now = redisNow()
  idem, idemUntil = ARGV[9], string.format('%d', now + tonumber(ARGV[7]) * 1000)
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[7])
end
local allReceivers = table.concat(receiverIds, ',')
local toWake = {}
for _, group in ipairs(groups) do
  if #group.chosen > 0 or group == home then
    local fields = {'eventType', ARGV[2], 'payload', ARGV[3], 'createdAt', ARGV[4], 'receiverIds', allReceivers, 'open', #group.chosen}
    for _, receiver in ipairs(group.chosen) do
      local seq = redis.call('INCR', group.sequence)
      fields[#fields + 1] = deliveryField(receiver.id)
      fields[#fields + 1] = cjson.encode({status = 'pending', seq = seq, failures = 0, attempts = 0, dueAt = 0})
      if redis.call('ZCARD', receiver.keys[2]) == 0 then toWake[#toWake + 1] = receiver.id end
      redis.call('ZADD', receiver.keys[2], seq, ARGV[1])
      -- the receiver's oldest never-attempted delivery, unless it has an older one already
      redis.call('ZADD', group.prefix .. ':heads:pending', 'NX', seq, receiver.id)
    end
    bumpStats(group.prefix, #group.chosen, 0, 0)
    if ARGV[10] ~= '' then
      fields[#fields + 1] = 'tp'
      fields[#fields + 1] = ARGV[10]
    end
    -- remembered by the home copy, so that its retention can shorten the key's life, and a resend give it back
    if withIdem and group == home then
      fields[#fields + 1] = 'idem'
      fields[#fields + 1] = idem
      fields[#fields + 1] = 'idemUntil'
      fields[#fields + 1] = idemUntil
    end
    if tenant ~= '' then
      fields[#fields + 1] = 'tenant'
      fields[#fields + 1] = tenant
    end
    redis.call('HSET', group.copy, unpack(fields))
    -- a copy without deliveries (the home copy of a message none of whose receivers is in its group) is final at once
    if #group.chosen == 0 then
      local withKey = group == home
      expireMessage(group.prefix, ARGV[1], tonumber(ARGV[8]), now or redisNow(), withKey and idem or '', withKey and idemUntil or '0')
    end
  end
end
-- a turn lingering on an emptied queue hears of its new work at once (store/notices.ts, drain.ts)
for _, receiverId in ipairs(toWake) do redis.call('PUBLISH', ARGV[14], receiverId) end
for _, index in ipairs(tenant == '' and {KEYS[2]} or {KEYS[2], KEYS[3]}) do
  redis.call('ZADD', index, 0, ARGV[1])
  -- old ids leave about once a second per process and tenant ('' = not this time): the listing skips ids whose message is gone
  if ARGV[12] ~= '' then redis.call('ZREMRANGEBYLEX', index, '-', '(' .. ARGV[12]) end
end
local accepted = {'accepted', ARGV[1], table.concat(toWake, ',')}
for _, receiverId in ipairs(receiverIds) do accepted[#accepted + 1] = receiverId end
return accepted
