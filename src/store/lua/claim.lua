-- Claim the next window of due deliveries of one receiver, for the holder of its lock.
--
-- The receiver's queue (KEYS[2], by acceptance sequence) holds every unfinished delivery; its
-- retry set (KEYS[3], by due time) those that were attempted and must go again (failed, aborted,
-- replayed). `frontier` in the receiver hash is the highest sequence whose first attempt was
-- recorded, so first attempts are the queue's members above it, taken in acceptance order, and a
-- window claimed by a holder that died before recording it is simply claimed again.
--
-- A window: the due retries first (oldest due first), then first attempts, up to ARGV[5].
-- `ordering: strict`: while a retry is waiting, nothing else goes (the whole queue holds).
-- Breaker: while the receiver's consecutive failures reach ARGV[6], the window is ONE delivery
-- (the probe); `backoffUntil` holds the receiver as a whole between probes.
-- Rate limit (config `rateLimitPerSecond`, `rateLimitBurst`): GCRA on Redis's clock, kept in the
-- receiver hash (`tat`), decided here for every emitter and slot alike: a window holds no more
-- deliveries than the limiter allows within the next ARGV[7] ms, and reserves them (moves `tat`
-- on by one interval each); the holder starts each no earlier than the limiter allows (pacer.ts)
-- and, with the window's last record, corrects the reservation to what really started
-- (record.lua). So requests started never exceed burst + rate × t in any window t, across every
-- emitter and lane. A claim that may send none within ARGV[7] ms says how long to wait.
--
-- Lanes (maxInFlight > 1) complete out of order, so `frontier` is only the completed prefix and
-- `high` the highest sequence recorded at all: a first attempt between the two may already be in
-- the retry set, and is then left to it (read only while high > frontier: never with one lane).
--
-- Claim ahead (drain.ts): while the tail of its current window is in flight, the holder claims
-- the next one, before those outcomes are recorded. ARGV[8] is the last first attempt it has
-- claimed (first attempts start above it, not at `frontier`), and ARGV[9..] the retries it has
-- claimed whose outcomes are not recorded yet: they are in flight, so they count as gone from the
-- retry set (also for `strict`: if one fails, the holder stops and gives the window back unsent).
-- Nothing is written for the deliveries of a window: one never sent is claimed again, as is one
-- whose holder died before recording it.
--
-- The window names its deliveries only: the holder reads their messages next (the message hashes
-- are keys this script could not name in KEYS before choosing them), and a delivery whose message
-- is gone is dropped by lua/drop-gone.lua. A rate limit's reservation for such a one is not given
-- back: the limiter stays on the safe side, for a case that needs a message removed by hand.
-- A first attempt comes with its sequence: its state is then known (no attempt and no failure
-- yet), so a holder that has the message's fields already (they never change) need not read it
-- (store/window-read.ts). Not while `reopened` > 0: a resend put a delivery with earlier attempts
-- back at the end of the queue (lua/resend.lua), and its next attempt must read its state to be
-- numbered after them; record.lua counts `reopened` down as it records that attempt. A receiver
-- stored before the count existed has none: unknown, so states are read, until a claim finds its
-- queue empty (then there is none to count) and starts the count at 0.
--
-- KEYS[1] receiver hash, KEYS[2] queue, KEYS[3] retry set
-- ARGV[1] fence, ARGV[2] lock service, ARGV[3] window size, ARGV[4] breaker threshold,
-- ARGV[5] rate-limit horizon (ms), ARGV[6] claim after this sequence (0: from `frontier`),
-- ARGV[7..] retries in flight (message ids)
--
-- Returns {'gone'} | {'fenced', mark} | {'disabled'} | {'empty'} | {'wait', inMs}
--       | {'send', config, failStreak, ahead (ms the limiter's state was ahead of now, 0 when
--          there is no limit: the holder uses it to report requests that started late),
--          previousFor (ms the config's `previousSecret` still signs after a rotation, on Redis's
--          clock: replace-config.lua), readStates (1: read every delivery's state, see above),
--          then per delivery: messageId, 'r' (from the retry set) or its sequence (a first attempt)}
--@include includes/now.lua
--@include includes/fence.lua
local receiver = redis.call('HMGET', KEYS[1], 'enabled', 'backoffUntil', 'config', 'failStreak', 'frontier', 'maxFence:' .. ARGV[2], 'tat', 'high', 'previousSecretUntil', 'reopened')
-- checked first: a fence mark written now would bring a deleted receiver's hash back
if not receiver[1] then return {'gone'} end
local mark = checkFence(KEYS[1], ARGV[2], receiver[6], ARGV[1])
if mark then return {'fenced', string.format('%d', mark)} end
if receiver[1] ~= '1' then return {'disabled'} end

local now = redisNow()
local backoffUntil = tonumber(receiver[2] or '0')
if backoffUntil > now then return {'wait', string.format('%d', backoffUntil - now)} end

local config = cjson.decode(receiver[3])
local failStreak = tonumber(receiver[4] or '0')
local limit = tonumber(ARGV[3])
if failStreak >= tonumber(ARGV[4]) then limit = 1 end
local rate = tonumber(config.rateLimitPerSecond)
local interval, base = 0, now
if rate then
  interval = 1000 / rate
  local tolerance = ((tonumber(config.rateLimitBurst) or 1) - 1) * interval
  base = math.max(tonumber(receiver[7] or '0'), now)
  local allowed = math.floor((now + tonumber(ARGV[5]) + tolerance - base) / interval) + 1
  if allowed < 1 then return {'wait', string.format('%d', math.ceil(base - tolerance - now))} end
  if allowed < limit then limit = allowed end
end

local inFlight, flying = {}, #ARGV - 6
for i = 7, #ARGV do inFlight[ARGV[i]] = true end
local chosen = {}
-- the earliest retry not in flight
local firstRetry = nil
local heads = redis.call('ZRANGE', KEYS[3], 0, flying, 'WITHSCORES')
for i = 1, #heads, 2 do
  if not inFlight[heads[i]] then
    firstRetry = tonumber(heads[i + 1])
    break
  end
end
if firstRetry then
  local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, limit + flying)
  for _, messageId in ipairs(due) do
    if #chosen < limit and not inFlight[messageId] then chosen[#chosen + 1] = {messageId, false} end
  end
  if #chosen == 0 and config.ordering == 'strict' then
    return {'wait', string.format('%d', firstRetry - now)}
  end
end
if #chosen < limit then
  local frontier = tonumber(receiver[5] or '0')
  local high = tonumber(receiver[8] or '0')
  local after = math.max(frontier, tonumber(ARGV[6]))
  local fresh = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. string.format('%d', after), '+inf', 'WITHSCORES', 'LIMIT', 0, limit - #chosen)
  for i = 1, #fresh, 2 do
    -- above the completed prefix but already attempted (a lane's outcome recorded out of order)
    local attempted = high > frontier and tonumber(fresh[i + 1]) <= high and redis.call('ZSCORE', KEYS[3], fresh[i])
    if not attempted then chosen[#chosen + 1] = {fresh[i], fresh[i + 1]} end
  end
end

if #chosen > 0 then
  local previousFor = math.max(0, tonumber(receiver[9] or '0') - now)
  local window = {'send', receiver[3], tostring(failStreak), string.format('%.3f', base - now), string.format('%d', previousFor), (not receiver[10] or tonumber(receiver[10]) > 0) and '1' or '0'}
  for _, pick in ipairs(chosen) do
    window[#window + 1] = pick[1]
    window[#window + 1] = pick[2] or 'r'
  end
  if rate then redis.call('HSET', KEYS[1], 'tat', string.format('%.3f', base + interval * #chosen)) end
  return window
end
if firstRetry then return {'wait', string.format('%d', math.max(0, firstRetry - now))} end
if not receiver[10] and redis.call('ZCARD', KEYS[2]) == 0 then redis.call('HSET', KEYS[1], 'reopened', 0) end
return {'empty'}
