-- The first step of accepting a message on a store with several shard groups (src/store/keys.ts;
-- a Redis Cluster runs a script on one slot only, so a message for receivers of several groups is
-- written group by group): the home group's part, in its slot. It checks and sets the idempotency
-- key, writes the home copy (the message, its deliveries to the home group's receivers, and every
-- receiver it is meant for), indexes the message, and, when other groups follow, notes it in the
-- group's intake set: until lua/finish-intake.lua takes it off, the message's fan-out may be
-- unfinished, and a repeat of its idempotency key or the emitters' reconciler finishes it
-- (store/sharded-intake.ts). The receivers and catalog versions were checked by the caller.
--
-- KEYS[1] idempotency key, KEYS[2] the group's message index, KEYS[3] the group's index of the
-- tenant's messages (unused without a tenant), KEYS[4] the group's intake set, then the group
-- (includes/groups.lua): the message's copy, the group's sequence, its four statistics keys, per
-- receiver its hash, its queue and its retry set
-- ARGV[1] message id, ARGV[2] event type, ARGV[3] payload JSON, ARGV[4] createdAt, ARGV[5] 'match'
-- or 'lenient' (includes/accept-copy.lua), ARGV[6] idempotency TTL seconds ('0' = no key),
-- ARGV[7] retention ms, ARGV[8] the idempotency key itself, ARGV[9] traceparent ('' = none),
-- ARGV[10] tenant id ('' = none), ARGV[11] the first message id still inside retention ('' = no
-- trim), ARGV[12] the work notices' channel, ARGV[13] every receiver the message is meant for
-- (comma-separated), ARGV[14] '1' when other groups follow, then the group: its receiver count
-- n, its n receiver ids
-- Returns {'accepted', id, toWake, chosen receiver ids...} | {'duplicate', firstMessageId, '1' when
-- its fan-out is unfinished else '0'}
--@include includes/now.lua
--@include includes/keys.lua
--@include includes/retention.lua
--@include includes/stats.lua
--@include includes/groups.lua
--@include includes/accept-copy.lua
local group = readGroups(5, 15, 3)[1]
if ARGV[6] ~= '0' then
  -- the key never outlives its message (includes/retention.lua)
  local first = redis.call('GET', KEYS[1])
  if first then return {'duplicate', first, redis.call('ZSCORE', KEYS[4], first) and '1' or '0'} end
end
local chosen = chooseReceivers(group, ARGV[10], ARGV[5])
local idem, idemUntil = '', '0'
if ARGV[6] ~= '0' then idem, idemUntil = rememberIdempotency(KEYS[1], ARGV[8], ARGV[6], ARGV[1]) end
local message = {
  id = ARGV[1], eventType = ARGV[2], payload = ARGV[3], createdAt = ARGV[4], receiverIds = ARGV[13],
  tp = ARGV[9], tenant = ARGV[10], retentionMs = tonumber(ARGV[7]),
}
local toWake = writeCopy(group, chosen, message, KEYS[1], idem, idemUntil, ARGV[12])
if ARGV[14] == '1' then redis.call('ZADD', KEYS[4], redisNow(), ARGV[1]) end
indexMessage(ARGV[1], KEYS[2], KEYS[3], ARGV[10], ARGV[11])
local chosenIds = {}
for _, receiver in ipairs(chosen) do chosenIds[#chosenIds + 1] = receiver.id end
return acceptedReply(ARGV[1], toWake, chosenIds)
