-- Redis's own clock, in ms: every scheduling decision that other processes will compare (due
-- times, backoff, the breaker) uses this one clock, never an emitter's wall clock, which may step.
local function redisNow()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
