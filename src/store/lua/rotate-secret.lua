-- Rotate a receiver's signing key: the new config (new key current, the old one kept as
-- `previousSecret`) replaces the old one only if the config is still the one the caller read
-- (compare and set: a concurrent PATCH or rotation is never overwritten, the caller reads again).
-- The overlap ends on Redis's clock, the clock every emitter's claim compares it with
-- (claim.lua), so no emitter's wall clock decides when the previous key stops signing.
-- KEYS[1] receiver hash
-- ARGV[1] the config read, ARGV[2] the new config, ARGV[3] overlap (ms; 0 = none)
-- Returns {'gone'} | {'changed'} | {'rotated', previousSecretUntil (Redis ms, 0 without overlap)}
--@include includes/now.lua
local config = redis.call('HGET', KEYS[1], 'config')
if not config then return {'gone'} end
if config ~= ARGV[1] then return {'changed'} end
local overlap = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'config', ARGV[2])
if overlap <= 0 then
  redis.call('HDEL', KEYS[1], 'previousSecretUntil')
  return {'rotated', '0'}
end
local untilMs = string.format('%d', redisNow() + overlap)
redis.call('HSET', KEYS[1], 'previousSecretUntil', untilMs)
return {'rotated', untilMs}
