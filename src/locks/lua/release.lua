-- Release a receiver's lock only if this session still owns it, and wake waiters at once.
-- KEYS[1] lock key, KEYS[2] holders hash
-- ARGV[1] session id, ARGV[2] receiver id, ARGV[3] release channel
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[2])
return 1
