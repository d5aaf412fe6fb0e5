-- Mark a receiver as being deleted (disabled, so its lock holder ends its turn and no emitter
-- starts another). Only an existing receiver: a plain HSET after a concurrent delete would bring
-- its hash back as a ghost that intake could still address by id.
-- KEYS[1] receiver hash, KEYS[2] receivers version
-- Returns 1 when marked, 0 when there is no such receiver.
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'enabled', '0', 'disabledReason', 'being deleted')
redis.call('INCR', KEYS[2])
return 1
