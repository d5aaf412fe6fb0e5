-- The one heartbeat of a process: extend every lock key it holds in one round trip.
-- KEYS all lock keys held by this session; ARGV[1] "<session> " (each value's start), ARGV[2] ttl ms
-- Returns one entry per key: 1 renewed, 0 refused (expired or taken by another session).
local result = {}
for i, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder and string.sub(holder, 1, #ARGV[1]) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    result[i] = 1
  else
    result[i] = 0
  end
end
return result
