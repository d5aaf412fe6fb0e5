-- Accept one message: store it, append one delivery per receiver to that receiver's ordered
-- queue, and remember the idempotency key, all in one atomic step, so a crash can never leave a
-- half-accepted message. Nothing is written when the request must be refused.
--
-- KEYS[1] message hash, KEYS[2] deliveries hash, KEYS[3] sequence, KEYS[4] receivers version,
-- KEYS[5] idempotency key, then for each receiver: its hash, its queue
-- ARGV[1] message id, ARGV[2] event type, ARGV[3] payload JSON, ARGV[4] createdAt,
-- ARGV[5] 'match' (receivers come from the caller's cache of version ARGV[6]) or 'explicit',
-- ARGV[6] receivers version, ARGV[7] idempotency TTL seconds ('0' = no key), ARGV[8..] receiver ids
--
-- Returns {'accepted', id, toWake, receiverIds...} | {'duplicate', firstMessageId} | {'stale'} | {'unknown-receiver', id}
-- where toWake lists (comma-separated) the receivers whose queue was empty before this message:
-- only those may lack a drain job. A receiver with deliveries queued already has one, waiting,
-- delayed or running a turn that will claim this message too (and the emitters' reconciler
-- covers any receiver left with work but no job), so a hot receiver costs intake no queue call.
local explicit = ARGV[5] == 'explicit'
if ARGV[7] ~= '0' then
  local first = redis.call('GET', KEYS[5])
  if first then return {'duplicate', first} end
end
if not explicit and (redis.call('GET', KEYS[4]) or '0') ~= ARGV[6] then
  return {'stale'}
end

local chosen = {}
for i = 8, #ARGV do
  local receiverKey = KEYS[6 + (i - 8) * 2]
  local enabled = redis.call('HGET', receiverKey, 'enabled')
  if not enabled then
    if explicit then return {'unknown-receiver', ARGV[i]} end
  elseif explicit or enabled == '1' then
    chosen[#chosen + 1] = i
  end
end

local accepted = {'accepted', ARGV[1], ''}
local toWake = {}
for _, i in ipairs(chosen) do
  local receiverId = ARGV[i]
  local queueKey = KEYS[7 + (i - 8) * 2]
  local seq = redis.call('INCR', KEYS[3])
  redis.call('HSET', KEYS[2], receiverId, cjson.encode({status = 'pending', seq = seq, failures = 0, attempts = 0, dueAt = 0}))
  if redis.call('ZCARD', queueKey) == 0 then toWake[#toWake + 1] = receiverId end
  redis.call('ZADD', queueKey, seq, ARGV[1])
  accepted[#accepted + 1] = receiverId
end
accepted[3] = table.concat(toWake, ',')
local receiverIds = {unpack(accepted, 4)}
redis.call('HSET', KEYS[1], 'eventType', ARGV[2], 'payload', ARGV[3], 'createdAt', ARGV[4], 'receiverIds', table.concat(receiverIds, ','))
if ARGV[7] ~= '0' then
  redis.call('SET', KEYS[5], ARGV[1], 'EX', ARGV[7])
end
return accepted
