-- Send a stored message again: each named receiver gets a fresh delivery at the back of its queue
-- (a delivery still waiting in a queue is left where it is). The attempt history is kept.
-- A receiver's shard group (src/store/keys.ts) without a copy of the message gets one, made from
-- the home copy (the copy in the group of the message's id).
-- KEYS[1] the message's home copy, then per group: the message's copy, the group's sequence, then
-- per receiver of the group: its hash, its queue, its dead set
-- A message with an unfinished delivery again no longer expires (includes/retention.lua).
-- ARGV[1] message id, ARGV[2] 'explicit' (unknown receivers are an error) or 'default'
-- (receivers deleted since are skipped), then per group: its key prefix, its receiver count n,
-- its n receiver ids
-- A receiver of another tenant than the message's counts as unknown (as in accept.lua).
-- Returns {'not-found'} | {'unknown-receiver', id} | {'resent', receiverIds...}
--@include includes/now.lua
--@include includes/keys.lua
--@include includes/retention.lua
--@include includes/stats.lua
--@include includes/groups.lua
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not-found'} end
local explicit = ARGV[2] == 'explicit'
local tenant = redis.call('HGET', KEYS[1], 'tenant') or ''
-- per receiver: its hash, its queue, its dead set
local groups = readGroups(2, 3, 3)
for _, group in ipairs(groups) do
  group.targets = {}
  for _, receiver in ipairs(group.receivers) do
    local fields = redis.call('HMGET', receiver.keys[1], 'enabled', 'tenant')
    if fields[1] and (fields[2] or '') == tenant then
      group.targets[#group.targets + 1] = {id = receiver.id, queue = receiver.keys[2], dead = receiver.keys[3]}
    elseif explicit then
      return {'unknown-receiver', receiver.id}
    end
  end
end

local resent = {'resent'}
local known = redis.call('HGET', KEYS[1], 'receiverIds') or ''
local unfinished = {pending = true, delivering = true, retrying = true}
for _, group in ipairs(groups) do
  if #group.targets > 0 and redis.call('EXISTS', group.copy) == 0 then
    local base = redis.call('HMGET', KEYS[1], 'eventType', 'payload', 'createdAt', 'tp', 'tenant')
    local fields = {'eventType', base[1], 'payload', base[2], 'createdAt', base[3], 'open', 0}
    if base[4] then fields[#fields + 1], fields[#fields + 2] = 'tp', base[4] end
    if base[5] then fields[#fields + 1], fields[#fields + 2] = 'tenant', base[5] end
    redis.call('HSET', group.copy, unpack(fields))
  end
  local reopened = 0
  for _, target in ipairs(group.targets) do
    local raw = redis.call('HGET', group.copy, deliveryField(target.id))
    local delivery = raw and cjson.decode(raw) or {attempts = 0}
    if not unfinished[delivery.status] then
      delivery.status = 'pending'
      delivery.failures = 0
      delivery.dueAt = 0
      delivery.claim = nil
      delivery.seq = redis.call('INCR', group.sequence)
      redis.call('HSET', group.copy, deliveryField(target.id), cjson.encode(delivery))
      local queued = redis.call('ZADD', target.queue, delivery.seq, ARGV[1])
      redis.call('ZADD', group.prefix .. ':heads:pending', 'NX', delivery.seq, target.id)
      local dead = redis.call('ZREM', target.dead, ARGV[1])
      if dead > 0 then refreshDeadHead(group.prefix, target.id, target.dead) end
      bumpStats(group.prefix, queued, 0, -dead)
      reopened = reopened + 1
    end
    resent[#resent + 1] = target.id
    if not string.find(',' .. known .. ',', ',' .. target.id .. ',', 1, true) then
      known = known == '' and target.id or (known .. ',' .. target.id)
    end
  end
  if reopened > 0 then reopenDeliveries(group.prefix, ARGV[1], reopened) end
end
-- every copy names all the message's receivers (what a read of any of them answers)
redis.call('HSET', KEYS[1], 'receiverIds', known)
for _, group in ipairs(groups) do
  if #group.targets > 0 then redis.call('HSET', group.copy, 'receiverIds', known) end
end
return resent
