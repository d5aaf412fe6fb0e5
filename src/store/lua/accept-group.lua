-- A later step of accepting a message on a store with several shard groups (lua/accept-home.lua
-- is the first): one other group's copy of the message with its deliveries to the group's
-- receivers. Idempotent on the message id (a copy there already is left as it is: this step runs
-- again when a fan-out is finished after a crash or a repeated request), so it never delivers twice.
--
-- KEYS: the group (includes/groups.lua): the message's copy, the group's sequence, its four
-- statistics keys, per receiver its hash, its queue and its retry set
-- ARGV[1] message id, ARGV[2] event type, ARGV[3] payload JSON, ARGV[4] createdAt, ARGV[5] 'match'
-- or 'lenient' (includes/accept-copy.lua), ARGV[6] retention ms, ARGV[7] traceparent ('' = none),
-- ARGV[8] tenant id ('' = none), ARGV[9] the work notices' channel, ARGV[10] every receiver the
-- message is meant for (comma-separated), then the group: its receiver count n, its n receiver ids
-- Returns {'accepted', id, toWake, chosen receiver ids...}
--@include includes/now.lua
--@include includes/keys.lua
--@include includes/retention.lua
--@include includes/stats.lua
--@include includes/groups.lua
--@include includes/accept-copy.lua
local group = readGroups(1, 11, 3)[1]
local chosenIds = {}
if redis.call('EXISTS', group.copy) == 1 then
  for _, receiver in ipairs(group.receivers) do
    if redis.call('HEXISTS', group.copy, deliveryField(receiver.id)) == 1 then chosenIds[#chosenIds + 1] = receiver.id end
  end
  return acceptedReply(ARGV[1], {}, chosenIds)
end
local chosen = chooseReceivers(group, ARGV[8], ARGV[5])
if #chosen == 0 then return acceptedReply(ARGV[1], {}, chosenIds) end
local message = {
  id = ARGV[1], eventType = ARGV[2], payload = ARGV[3], createdAt = ARGV[4], receiverIds = ARGV[10],
  tp = ARGV[7], tenant = ARGV[8], retentionMs = tonumber(ARGV[6]),
}
local toWake = writeCopy(group, chosen, message, group.copy, '', '0', ARGV[9])
for _, receiver in ipairs(chosen) do chosenIds[#chosenIds + 1] = receiver.id end
return acceptedReply(ARGV[1], toWake, chosenIds)
