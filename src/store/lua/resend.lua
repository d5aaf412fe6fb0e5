-- Send a stored message again: each named receiver gets a fresh delivery at the back of its queue
-- (a delivery still waiting in a queue is left where it is). The attempt history is kept.
-- KEYS[1] message hash (with its deliveries), KEYS[2] sequence, then per receiver: its hash, its
-- queue, its dead set
-- A message with an unfinished delivery again no longer expires (includes/retention.lua).
-- ARGV[1] message id, ARGV[2] 'explicit' (unknown receivers are an error) or 'default'
-- (receivers deleted since are skipped), ARGV[3] key prefix, ARGV[4..] receiver ids
-- A receiver of another tenant than the message's counts as unknown (as in accept.lua).
-- Returns {'not-found'} | {'unknown-receiver', id} | {'resent', receiverIds...}
--@include includes/now.lua
--@include includes/keys.lua
--@include includes/retention.lua
--@include includes/stats.lua
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not-found'} end
local explicit = ARGV[2] == 'explicit'
local tenant = redis.call('HGET', KEYS[1], 'tenant') or ''
local targets = {}
for i = 4, #ARGV do
  local base = 3 + (i - 4) * 3
  local fields = redis.call('HMGET', KEYS[base], 'enabled', 'tenant')
  if fields[1] and (fields[2] or '') == tenant then
    targets[#targets + 1] = {id = ARGV[i], queue = KEYS[base + 1], dead = KEYS[base + 2]}
  elseif explicit then
    return {'unknown-receiver', ARGV[i]}
  end
end

local resent = {'resent'}
local reopened = 0
local unfinished = {pending = true, delivering = true, retrying = true}
for _, target in ipairs(targets) do
  local raw = redis.call('HGET', KEYS[1], deliveryField(target.id))
  local delivery = raw and cjson.decode(raw) or {attempts = 0}
  if not unfinished[delivery.status] then
    delivery.status = 'pending'
    delivery.failures = 0
    delivery.dueAt = 0
    delivery.claim = nil
    delivery.seq = redis.call('INCR', KEYS[2])
    redis.call('HSET', KEYS[1], deliveryField(target.id), cjson.encode(delivery))
    local queued = redis.call('ZADD', target.queue, delivery.seq, ARGV[1])
    redis.call('ZADD', ARGV[3] .. ':heads:pending', 'NX', delivery.seq, target.id)
    local dead = redis.call('ZREM', target.dead, ARGV[1])
    if dead > 0 then refreshDeadHead(ARGV[3], target.id, target.dead) end
    bumpStats(ARGV[3], queued, 0, -dead)
    reopened = reopened + 1
  end
  resent[#resent + 1] = target.id
end
local known = redis.call('HGET', KEYS[1], 'receiverIds') or ''
for i = 2, #resent do
  if not string.find(',' .. known .. ',', ',' .. resent[i] .. ',', 1, true) then
    known = known == '' and resent[i] or (known .. ',' .. resent[i])
  end
end
redis.call('HSET', KEYS[1], 'receiverIds', known)
if reopened > 0 then reopenDeliveries(ARGV[3], ARGV[1], reopened) end
return resent
