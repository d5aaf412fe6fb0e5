-- Take a receiver's lock for this process's session and hand out the next fencing token.
-- KEYS[1] lock key, KEYS[2] fences hash (lock name -> last fence), KEYS[3] the name's fence counter
-- of the versions that kept one key per name (read once, then gone)
-- ARGV[1] lock value "<session> <since>", ARGV[2] ttl ms, ARGV[3] lock name, ARGV[4] '1': the
-- caller waits for a busy lock (mark it, so its release wakes the waiters)
-- Returns the new fence, or 0 when somebody else holds the receiver.
-- Three commands when free: the fences hash also names every lock for /v1/locks, so a turn pays
-- no holders bookkeeping.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local fence = redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
  if fence == 1 then
    local before = redis.call('GET', KEYS[3])
    if before then
      fence = redis.call('HINCRBY', KEYS[2], ARGV[3], tonumber(before))
      redis.call('DEL', KEYS[3])
    end
  end
  return fence
end
if ARGV[4] == '1' then
  -- a trailing '!' on the holder's value: its release publishes, a release nobody waits for does not
  local holder = redis.call('GET', KEYS[1])
  if holder and string.sub(holder, -1) ~= '!' then redis.call('APPEND', KEYS[1], '!') end
end
return 0
