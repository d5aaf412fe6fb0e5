-- Release a receiver's lock only if this session still owns it, and wake waiters at once if any
-- marked it (a trailing '!', see acquire.lua).
-- KEYS[1] lock key
-- ARGV[1] "<session> " (the value's start), ARGV[2] lock name, ARGV[3] release channel
local holder = redis.call('GET', KEYS[1])
if not holder or string.sub(holder, 1, #ARGV[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
if string.sub(holder, -1) == '!' then redis.call('PUBLISH', ARGV[3], ARGV[2]) end
return 1
