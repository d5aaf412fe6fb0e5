-- Rewrite a tenant's record, only while it exists (a plain HSET after a concurrent delete would
-- bring it back).
-- KEYS[1] tenant hash; ARGV[1] the record (JSON)
-- Returns 1, or 0 when there is no such tenant.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'json', ARGV[1])
return 1
