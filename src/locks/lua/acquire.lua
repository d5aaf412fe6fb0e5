-- Take a receiver's lock for this process's session and hand out the next fencing token.
-- KEYS[1] lock key, KEYS[2] fence counter, KEYS[3] holders hash
-- ARGV[1] session id, ARGV[2] ttl ms, ARGV[3] receiver id, ARGV[4] holder JSON without fence
-- Returns the new fence, or 0 when somebody else holds the receiver.
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 0
end
local fence = redis.call('INCR', KEYS[2])
local holder = cjson.decode(ARGV[4])
holder['fence'] = fence
redis.call('HSET', KEYS[3], ARGV[3], cjson.encode(holder))
return fence
