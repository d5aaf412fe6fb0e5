-- Replace a receiver's `config` (a PATCH, a key rotation) only if it is still the one the caller
-- read: compare and set, so a PATCH and a rotation racing each other never overwrite one another
-- (the loser reads again and applies its change on top). A rotation's overlap ends on Redis's
-- clock, the clock every emitter's claim compares it with (claim.lua), so no emitter's wall clock
-- decides when the previous key stops signing.
-- KEYS[1] receiver hash, KEYS[2] receivers version
-- ARGV[1] the config read, ARGV[2] the new config,
-- ARGV[3] the previous key's overlap: '' unchanged, '0' none (ended now), n > 0: n ms from now,
-- ARGV[4] '' enabled unchanged, '1' enable (clears the reason, the backoff, the streak and the
--         breaker), '0' disable by operator
-- ARGV[5] the notice channel, ARGV[6] the notice: the receiver id, and a token for the emitters to
--         confirm with when the caller waits for them (notice-confirmations.ts): every emitter hears
--         of the change before its next attempt to the receiver (notices.ts), not only at its next claim
-- Returns {'gone'} | {'changed'} | {'replaced', previousSecretUntil (Redis ms, '0' when none set now),
--         enabled before, how many subscribers got the notice}
--@include includes/now.lua
local current = redis.call('HMGET', KEYS[1], 'config', 'enabled')
if not current[1] then return {'gone'} end
if current[1] ~= ARGV[1] then return {'changed'} end
redis.call('HSET', KEYS[1], 'config', ARGV[2])
local untilMs = '0'
if ARGV[3] == '0' then
  redis.call('HDEL', KEYS[1], 'previousSecretUntil')
elseif ARGV[3] ~= '' then
  untilMs = string.format('%d', redisNow() + tonumber(ARGV[3]))
  redis.call('HSET', KEYS[1], 'previousSecretUntil', untilMs)
end
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[1], 'enabled', '1')
  redis.call('HDEL', KEYS[1], 'disabledReason', 'backoffUntil', 'failStreak', 'breakerOpenedAt')
elseif ARGV[4] == '0' then
  redis.call('HSET', KEYS[1], 'enabled', '0', 'disabledReason', 'disabled by operator')
end
redis.call('INCR', KEYS[2])
local heard = redis.call('PUBLISH', ARGV[5], ARGV[6])
return {'replaced', untilMs, current[2] or '0', tostring(heard)}
