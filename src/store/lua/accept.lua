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
-- Returns {'accepted', id, receiverIds...} | {'duplicate', firstMessageId} | {'stale'} | {'unknown-receiver', id}
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

local accepted = {'accepted', ARGV[1]}
for _, i in ipairs(chosen) do
  local receiverId = ARGV[i]
  local seq = redis.call('INCR', KEYS[3])
  redis.call('HSET', KEYS[2], receiverId, cjson.encode({status = 'pending', seq = seq, failures = 0, attempts = 0, dueAt = 0}))
  redis.call('ZADD', KEYS[7 + (i - 8) * 2], seq, ARGV[1])
  accepted[#accepted + 1] = receiverId
end
local receiverIds = {unpack(accepted, 3)}
redis.call('HSET', KEYS[1], 'eventType', ARGV[2], 'payload', ARGV[3], 'createdAt', ARGV[4], 'receiverIds', table.concat(receiverIds, ','))
if ARGV[7] ~= '0' then
  redis.call('SET', KEYS[5], ARGV[1], 'EX', ARGV[7])
end
return accepted
