-- The last step of accepting a message on a store with several shard groups: every group has its
-- copy (lua/accept-group.lua), so the home copy names the receivers that got a delivery and the
-- message leaves the home group's intake set.
-- KEYS[1] the home copy, KEYS[2] the home group's intake set
-- ARGV[1] message id, ARGV[2] the receivers that got a delivery (comma-separated)
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'receiverIds', ARGV[2]) end
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
