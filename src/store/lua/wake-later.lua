-- A receiver whose turn ended with nothing to send yet (backoff, a retry not due, busy): note when
-- its next turn is due, on Redis's clock, keeping the earliest if one is already noted. Emitters
-- turn due entries into drain jobs (promote-due.lua). BullMQ's own delayed jobs are timed by each
-- worker's wall clock, which a stepped clock would shift by minutes.
-- KEYS[1] wake set; ARGV[1] receiver id, ARGV[2] delay ms
--@include includes/now.lua
redis.call('ZADD', KEYS[1], 'LT', redisNow() + tonumber(ARGV[2]), ARGV[1])
return 1
