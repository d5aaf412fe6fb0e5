-- Delete a stored message's payload, in one shard group (store/payload-deletion.ts calls it per
-- group, the home group first, for at most 500 of a group's receivers per call): for a payload sent by mistake (personal data, a secret). The copy
-- keeps everything else (type, time, tenant, deliveries and their attempts) and records when, in
-- `payloadDeletedAt` (ms, the first deletion's). A payload-less message can never be sent again:
-- each of the group's receivers' unfinished deliveries of it is cancelled (out of its queue and
-- retry set, so no emitter claims it; one already claimed may still go out once, and its attempt
-- is kept as refused: lua/record.lua), and a dead one leaves the dead set (nothing is left to
-- replay; it stays dead).
-- KEYS[1] the message's idempotency key (the home group's call, when it has one; else any key of the
-- group), then the group (includes/groups.lua): its copy of the message, its sequence, its four
-- statistics keys, per receiver its hash, its queue, its retry set, its dead set
-- ARGV[1] message id, ARGV[2] retention ms, ARGV[3] the idempotency key's name as the caller read it
-- ('' = none), ARGV[4] the time to record ('' = now: the home group's call, the first), then the
-- group: its receiver count n, its n receiver ids
-- Returns {'not-found'} | {'deleted', when (ms), cancelled receiver ids...}
--@include includes/now.lua
--@include includes/keys.lua
--@include includes/delivery.lua
--@include includes/retention.lua
--@include includes/stats.lua
--@include includes/groups.lua
local group = readGroups(2, 5, 4)[1]
if redis.call('EXISTS', group.copy) == 0 then return {'not-found'} end
local now = redisNow()
redis.call('HSETNX', group.copy, 'payloadDeletedAt', ARGV[4] ~= '' and ARGV[4] or now)
redis.call('HDEL', group.copy, 'payload')
local idem, idemUntil = messageIdem(group.copy)
if idem ~= ARGV[3] then idem = '' end -- never touch a key the caller did not name
local out = {'deleted', redis.call('HGET', group.copy, 'payloadDeletedAt')}
for _, receiver in ipairs(group.receivers) do
  local hash, queue, retries, dead = unpack(receiver.keys)
  if redis.call('ZREM', queue, ARGV[1]) > 0 then
    bumpStats(group.stats, -1, -redis.call('ZREM', retries, ARGV[1]), 0)
    if changeDelivery(group.copy, receiver.id, cancelDelivery) then closeDelivery(group.copy, KEYS[1], tonumber(ARGV[2]), now, idem, idemUntil) end
    refreshHeads(group.stats, receiver.id, queue, tonumber(redis.call('HGET', hash, 'frontier') or '0'))
    out[#out + 1] = receiver.id
  end
  if redis.call('ZREM', dead, ARGV[1]) > 0 then
    bumpStats(group.stats, 0, 0, -1)
    refreshDeadHead(group.stats, receiver.id, dead)
  end
end
return out
