-- The messages of a claimed window (store/window-read.ts) in one call: the fields of each message
-- to read, and whether the ones the emitter has cached are still there. Read with an HMGET each in
-- a pipeline instead, every message cost the emitter a command of its own in ioredis (its object,
-- encoding and reply: ~5 us of CPU, against ~1.3 us more of Redis's here).
-- KEYS: the message hashes to read, then the cached ones to check
-- ARGV[1] how many of KEYS are read, then the fields to read of each
-- Returns per read message the values of the fields (nil for a missing one), then how many of the
-- cached messages exist.
local reads = tonumber(ARGV[1])
local fields = {unpack(ARGV, 2)}
local out = {}
for i = 1, reads do out[i] = redis.call('HMGET', KEYS[i], unpack(fields)) end
-- one EXISTS for them all: one per key made a fan-out's delivery cost a Redis command more
out[reads + 1] = #KEYS > reads and redis.call('EXISTS', unpack(KEYS, reads + 1)) or 0
return out
