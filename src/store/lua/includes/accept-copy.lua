-- Writing a message into one shard group (src/store/keys.ts): which of the group's receivers get a
-- delivery, and the group's copy of the message with those deliveries. Needs includes/now.lua,
-- keys.lua, retention.lua, stats.lua and groups.lua (a group as readGroups gives it, three keys per
-- receiver: its hash, its queue, its retry set).

-- Tenancy is decided here, in the same step as the write: a receiver whose tenant is not the
-- message's (a receiver with none for a message with none) is never chosen. 'match' takes the
-- enabled receivers; 'explicit' every existing one of the tenant, refusing the message for an
-- unknown one; 'lenient' the same but skips an unknown one (the caller checked them beforehand: one
-- deleted since is as if deleted just after the accept, which cancels its delivery).
-- Returns the chosen receivers, or nil and the id of an unknown one ('explicit').
local function chooseReceivers(group, tenant, mode)
  local chosen = {}
  for _, receiver in ipairs(group.receivers) do
    local fields = redis.call('HMGET', receiver.keys[1], 'enabled', 'tenant')
    local enabled = fields[1]
    if enabled and (fields[2] or '') ~= tenant then enabled = false end
    if not enabled then
      if mode == 'explicit' then return nil, receiver.id end
    elseif mode ~= 'match' or enabled == '1' then
      chosen[#chosen + 1] = receiver
    end
  end
  return chosen
end

-- Whether a receiver getting a new delivery may have no drain job: its queue is empty, or holds only
-- deliveries waiting for a retry (each is in the retry set too), which a turn that found none due
-- left in the wake set until the first of them. A first attempt then goes at once, not at that
-- retry, unless the receiver is held as a whole: `strict` behind a retry, or `backoffUntil` (an
-- open breaker, a 429) still ahead. A receiver with a first attempt queued has a job or is held.
local function mayBeParked(keys)
  local queued = redis.call('ZCARD', keys[2])
  if queued == 0 then return true end
  if queued ~= redis.call('ZCARD', keys[3]) then return false end
  local held = redis.call('HMGET', keys[1], 'backoffUntil', 'config')
  if tonumber(held[1] or '0') > redisNow() then return false end
  return not held[2] or cjson.decode(held[2]).ordering ~= 'strict'
end

-- Writes the group's copy of `message` ({id, eventType, payload, createdAt, receiverIds (text),
-- tp ('' = none), tenant ('' = none), retentionMs}) with a pending delivery per chosen receiver at
-- the back of its queue, in the group's sequence. `idem` and `idemUntil` ('' and '0' = none) go into
-- the home copy only, `idemKey` is the idempotency key (any of the group's keys when there is
-- none). A copy without deliveries is final at once (includes/retention.lua).
-- Returns the receivers that may lack a drain job (mayBeParked), which are woken; a turn lingering on an
-- emptied queue hears of its new work at once (store/notices.ts) on `channel`.
local function writeCopy(group, chosen, message, idemKey, idem, idemUntil, channel)
  local fields = {'eventType', message.eventType, 'payload', message.payload, 'createdAt', message.createdAt, 'receiverIds', message.receiverIds, 'open', #chosen}
  local toWake = {}
  for _, receiver in ipairs(chosen) do
    local seq = redis.call('INCR', group.sequence)
    fields[#fields + 1] = deliveryField(receiver.id)
    fields[#fields + 1] = deliveryState('pending', seq, 0, 0, 0)
    if mayBeParked(receiver.keys) then toWake[#toWake + 1] = receiver.id end
    redis.call('ZADD', receiver.keys[2], seq, message.id)
    -- the receiver's oldest never-attempted delivery, unless it has an older one already
    redis.call('ZADD', group.stats.pending, 'NX', seq, receiver.id)
  end
  bumpStats(group.stats, #chosen, 0, 0)
  if message.tp ~= '' then
    fields[#fields + 1] = 'tp'
    fields[#fields + 1] = message.tp
  end
  -- remembered so that retention can shorten the key's life, and a resend give it back
  if idem ~= '' then
    fields[#fields + 1] = 'idem'
    fields[#fields + 1] = idem
    fields[#fields + 1] = 'idemUntil'
    fields[#fields + 1] = idemUntil
  end
  if message.tenant ~= '' then
    fields[#fields + 1] = 'tenant'
    fields[#fields + 1] = message.tenant
  end
  redis.call('HSET', group.copy, unpack(fields))
  if #chosen == 0 then expireMessage(group.copy, idemKey, message.retentionMs, redisNow(), idem, idemUntil) end
  for _, receiverId in ipairs(toWake) do redis.call('PUBLISH', channel, receiverId) end
  return toWake
end

-- Sets the idempotency key (TTL `ttl` s) to the message id; returns the key and its end (ms) as
-- the home copy keeps them.
local function rememberIdempotency(key, name, ttl, messageId)
  redis.call('SET', key, messageId, 'EX', ttl)
  return name, string.format('%d', redisNow() + tonumber(ttl) * 1000)
end

-- Puts the message id into the message indexes (the global one and its tenant's, `tenant` ~= '')
-- and, `trimBelow` ~= '', drops the ids older than it (about once a second per process and tenant:
-- the listing skips ids whose message is gone).
local function indexMessage(messageId, indexKey, tenantIndexKey, tenant, trimBelow)
  for _, index in ipairs(tenant == '' and {indexKey} or {indexKey, tenantIndexKey}) do
    redis.call('ZADD', index, 0, messageId)
    if trimBelow ~= '' then redis.call('ZREMRANGEBYLEX', index, '-', '(' .. trimBelow) end
  end
end

-- The reply of an accept: {'accepted', id, toWake (comma-separated), chosen receiver ids...}.
local function acceptedReply(messageId, toWake, chosenIds)
  local reply = {'accepted', messageId, table.concat(toWake, ',')}
  for _, receiverId in ipairs(chosenIds) do reply[#reply + 1] = receiverId end
  return reply
end
