-- Accept one message: store it, append one delivery per receiver to that receiver's ordered
-- queue, and remember the idempotency key, all in one atomic step, so a crash can never leave a
-- half-accepted message. Nothing is written when the request must be refused. This is the store
-- with one shard group (src/store/keys.ts); with several, store/sharded-intake.ts accepts a message
-- group by group (lua/accept-home.lua, accept-group.lua, finish-intake.lua).
--
-- KEYS[1] idempotency key, KEYS[2] message index, KEYS[3] the tenant's message index
-- (unused without a tenant), KEYS[4] the event-type catalog's version, KEYS[5] the receivers
-- version, then the group (includes/groups.lua): the message's hash, the sequence, the four
-- statistics keys, then per receiver its hash, its queue and its retry set
-- ARGV[1] message id, ARGV[2] event type, ARGV[3] payload JSON, ARGV[4] createdAt,
-- ARGV[5] 'match' (receivers come from the caller's cache of version ARGV[6]) or 'explicit',
-- ARGV[6] receivers version, ARGV[7] idempotency TTL seconds ('0' = no key), ARGV[8] retention ms,
-- ARGV[9] the idempotency key itself, ARGV[10] the W3C traceparent to keep with the message ('' =
-- none: stored only when tracing is on or the producer sent one), ARGV[11] tenant id ('' = none),
-- ARGV[12] the first message id still inside retention (older ones leave the indexes; '' = no
-- trim this time), ARGV[13] the catalog version the payload was validated with, ARGV[14] the
-- channel of work notices (store/notices.ts), ARGV[15] receiver count n, ARGV[16..] the n
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
-- where toWake lists (comma-separated) the receivers whose queue was empty before this message,
-- or held only retries not due yet (includes/accept-copy.lua): only those may lack a drain job. A
-- receiver with a first attempt queued already has one, waiting or running a turn that will claim
-- this message too, or is held as a whole (and the emitters' reconciler covers any receiver left
-- with work but no job), so a hot receiver costs intake no queue call.
--@include includes/now.lua
--@include includes/keys.lua
--@include includes/retention.lua
--@include includes/stats.lua
--@include includes/groups.lua
--@include includes/accept-copy.lua
local tenant = ARGV[11]
local mode = ARGV[5]
-- per receiver: its hash, its queue, its retry set
local group = readGroups(6, 15, 3)[1]

if ARGV[7] ~= '0' then
  -- the key never outlives its message (includes/retention.lua)
  local first = redis.call('GET', KEYS[1])
  if first then return {'duplicate', first} end
end
if (redis.call('GET', KEYS[4]) or '0') ~= ARGV[13] then return {'stale-catalog'} end
if mode == 'match' and (redis.call('GET', KEYS[5]) or '0') ~= ARGV[6] then return {'stale'} end
local chosen, unknown = chooseReceivers(group, tenant, mode)
if not chosen then return {'unknown-receiver', unknown} end

local idem, idemUntil = '', '0'
if ARGV[7] ~= '0' then idem, idemUntil = rememberIdempotency(KEYS[1], ARGV[9], ARGV[7], ARGV[1]) end
local chosenIds = {}
for _, receiver in ipairs(chosen) do chosenIds[#chosenIds + 1] = receiver.id end
local message = {
  id = ARGV[1], eventType = ARGV[2], payload = ARGV[3], createdAt = ARGV[4], receiverIds = table.concat(chosenIds, ','),
  tp = ARGV[10], tenant = tenant, retentionMs = tonumber(ARGV[8]),
}
local toWake = writeCopy(group, chosen, message, KEYS[1], idem, idemUntil, ARGV[14])
indexMessage(ARGV[1], KEYS[2], KEYS[3], tenant, ARGV[12])
return acceptedReply(ARGV[1], toWake, chosenIds)
