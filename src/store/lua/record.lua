-- Record a batch of attempts of one receiver, in the order they were made, and move each
-- delivery on; update the receiver's health and its circuit breaker. For the holder of its lock.
--
-- Every attempt goes into its message's history, refused or not: it is a request that really
-- reached the receiver, and the history is the account of what was sent. An accepted one is the
-- delivery's attempt n (`a:<receiver>:<n>`, written with the delivery's new state in one HSET); a
-- refused one (fenced, or its delivery no longer unfinished) is kept as `r:<receiver>:<service>:
-- <fence>:<n>` (includes/keys.lua), and never brings back a message that is gone. Fencing
-- (includes/fence.lua): a fence below the receiver's mark changes nothing else and answers 'fenced'.
--
-- Per outcome: delivered → final, out of the queue and the retry set; failed → into the retry
-- set at now + its delay, or `dead` after its last retry; aborted (the lock was lost mid-request)
-- and gone (410: the receiver is disabled) → into the retry set, due at once. A delivery no
-- longer in the queue (cancelled by a delete meanwhile, or already final) is left as it is
-- ('stale'). The delivery's new state is written from what the claim handed out (its sequence,
-- attempts and failures), without reading it first: the queue membership is the check, one
-- ZMSCORE for the batch, and the final ones leave the queue in one ZREM.
--
-- Breaker: `failStreak` counts consecutive failed attempts; once it reaches ARGV[6], or on a
-- throttling answer (hold > 0: 429/503 with Retry-After), the receiver backs off as a whole until
-- now + the next breaker step (ARGV[7], ms, one per further failure) or the hold, whichever is
-- later; a success closes it.
--
-- Lanes (maxInFlight > 1): outcomes arrive in completion order, not acceptance order, so the
-- holder says how far `frontier` may move (ARGV[8]: every first attempt of its window up to that
-- sequence is recorded by now, 0 = no move); `high` keeps the highest sequence recorded, so the
-- claim can tell the gaps. An outcome sent on lane slot k > 0 names that slot's lock service and
-- fence ('<service>|<fence>', '' for slot 0): each slot has a mark of its own, and a refused one
-- refuses the whole batch, as the holder's own fence does.
--
-- Queue statistics (includes/stats.lua): counters from the ZADD/ZREM replies, then the
-- receiver's heads once per batch.
--
-- Retention (includes/retention.lua): a delivery keeps its first 3 and last 10 attempts (attempt n
-- > 13 drops n - 10; how many were left out follows from `attempts`); a delivery that becomes
-- final may make its whole message final, which then expires ARGV[10] ms later; a dead delivery
-- also trims the dead set of entries older than that (their messages are gone).
--
-- Rate limit: the claim reserved its window (moved `tat` on by one interval per delivery); with
-- the window's last batch the holder corrects that by ARGV[9] ms (pacer.ts: later starts move it
-- on, unsent reservations give it back), so the next claim starts from an upper bound of the
-- limiter's true state.
--
-- Resends: the first attempt of a delivery a resend put back with earlier attempts counts the
-- receiver's `reopened` down (claim.lua reads states while it is above 0).
--
-- KEYS[1] receiver hash, KEYS[2] queue, KEYS[3] retry set, KEYS[4] dead set, KEYS[5] receivers
-- version, KEYS[6..9] the group's statistics keys, then per outcome: its message hash and the
-- message's idempotency key (the message hash again when it has none)
-- ARGV[1] fence, ARGV[2] lock service, ARGV[3] receiver id, ARGV[4] disable after dying this long (ms),
-- ARGV[5] the disabledReason to give it then, ARGV[6] breaker threshold, ARGV[7] breaker steps
-- (comma-separated ms), ARGV[8] frontier candidate, ARGV[9] rate-limit correction (ms), ARGV[10]
-- retention ms, then per outcome: message id, sequence,
-- attempts and failures before this attempt, 'r' (claimed from the retry set) or 'f' (a first
-- attempt), attempt JSON, outcome kind, retry delay ms, '1' when final, hold ms, lane, the
-- message's idempotency key and its end (as the claim handed them out)
--
-- Returns {'fenced'} | {'recorded', breakerOpenedNow (0|1), enabled (0|1: the holder stops
-- sending when the receiver was disabled or deleted meanwhile), queued (0|1: whether the queue
-- still holds anything, so a holder whose window came short need not claim again), the
-- disabledReason when this batch disabled the receiver ('' if not), 'failing' when its consecutive
-- failures reached the breaker threshold in this batch or 'recovered' when a success brought them
-- back under it ('' if neither; these two and the reason are its operational events), then each
-- delivery's new status}
--@include includes/now.lua
--@include includes/fence.lua
--@include includes/keys.lua
--@include includes/retention.lua
--@include includes/stats.lua
local FIELDS = 13
local FIRST = 11
local count = (#ARGV - FIRST + 1) / FIELDS
local retentionMs = tonumber(ARGV[10])
local stats = statsKeys(6)
-- outcome i's message hash and idempotency key
local function messageKeys(i) return KEYS[10 + 2 * i], KEYS[11 + 2 * i] end

-- An attempt the store refuses still joins its message's history, unless the message is gone.
local function keepRefused(i)
  local base = FIRST + i * FIELDS
  local lane = ARGV[base + 10]
  local fence = lane == '' and (ARGV[2] .. ':' .. ARGV[1]) or string.gsub(lane, '|', ':')
  local messageKey = messageKeys(i)
  if redis.call('EXISTS', messageKey) == 1 then
    redis.call('HSET', messageKey, refusedField(ARGV[3], fence, tonumber(ARGV[base + 2]) + 1), ARGV[base + 5])
  end
end
local function keepAllRefused()
  for i = 0, count - 1 do keepRefused(i) end
end

local receiver = redis.call('HMGET', KEYS[1], 'failStreak', 'frontier', 'breakerOpenedAt', 'backoffUntil', 'enabled', 'maxFence:' .. ARGV[2], 'dyingSince', 'high', 'reopened')
-- a deleted receiver: its deliveries were cancelled, and no field may bring its hash back
if not receiver[5] then
  keepAllRefused()
  return {'recorded', 0, 0, 0, '', ''}
end
if checkFence(KEYS[1], ARGV[2], receiver[6], ARGV[1]) then
  keepAllRefused()
  return {'fenced'}
end
-- lane slots' fences (maxInFlight > 1 only): all checked before anything is written
local seen, lanes, laneFields = {}, {}, {}
for i = 0, count - 1 do
  local lane = ARGV[FIRST + 10 + i * FIELDS]
  if lane ~= '' and not seen[lane] then
    seen[lane] = true
    local sep = string.find(lane, '|', 1, true)
    lanes[#lanes + 1] = {string.sub(lane, 1, sep - 1), tonumber(string.sub(lane, sep + 1))}
    laneFields[#laneFields + 1] = 'maxFence:' .. lanes[#lanes][1]
  end
end
if #lanes > 0 then
  local marks = redis.call('HMGET', KEYS[1], unpack(laneFields))
  for n, lane in ipairs(lanes) do
    if lane[2] < tonumber(marks[n] or '0') then
      keepAllRefused()
      return {'fenced'}
    end
  end
  for n, lane in ipairs(lanes) do
    if lane[2] > tonumber(marks[n] or '0') then redis.call('HSET', KEYS[1], laneFields[n], string.format('%d', lane[2])) end
  end
end

local now = redisNow()
local streakBefore = tonumber(receiver[1] or '0')
local streak = streakBefore
local frontier = tonumber(receiver[2] or '0')
local high = tonumber(receiver[8] or '0')
local holdUntil = 0
local failedHere = false
local result = {'recorded', 0, receiver[5] == '1' and 1 or 0, 0, '', ''}
-- disables the receiver (once: a second 410 of the batch finds it disabled already)
local enabled = receiver[5] == '1'
local function disable(reason)
  redis.call('HSET', KEYS[1], 'enabled', '0', 'disabledReason', reason)
  redis.call('INCR', KEYS[5])
  if enabled then result[5] = reason end
  enabled = false
end
local health = {}
local retrying, dead = 0, 0
local deadHeadNeeded = false
-- first attempts of resent deliveries with earlier attempts, recorded now (claim.lua, `reopened`)
local reopenedDone = 0
-- which deliveries are still unfinished (in the queue), for the whole batch in one read
local members = {}
for i = 0, count - 1 do members[i + 1] = ARGV[FIRST + i * FIELDS] end
local inQueue = count > 0 and redis.call('ZMSCORE', KEYS[2], unpack(members)) or {}
local leaving, leavingRetries, closing, done = {}, {}, {}, {}

for i = 0, count - 1 do
  local messageKey = messageKeys(i)
  local base = FIRST + i * FIELDS
  local messageId, seq, outcome = ARGV[base], tonumber(ARGV[base + 1]), ARGV[base + 6]
  local fromRetries = ARGV[base + 4] == 'r'
  local delivery = {seq = seq, attempts = tonumber(ARGV[base + 2]) + 1, failures = tonumber(ARGV[base + 3]), dueAt = 0}
  local final = outcome == 'delivered' or (outcome == 'failed' and ARGV[base + 8] == '1')
  if not inQueue[i + 1] or done[messageId] then
    keepRefused(i)
    result[#result + 1] = 'stale'
  else
    if seq > high then high = seq end
    if not fromRetries and delivery.attempts > 1 then reopenedDone = reopenedDone + 1 end
    if final then
      done[messageId] = true
      leaving[#leaving + 1] = messageId
      if fromRetries then leavingRetries[#leavingRetries + 1] = messageId end
      closing[#closing + 1] = i
    end
    if outcome == 'delivered' then
      delivery.status = 'delivered'
      streak = 0
      health.lastSuccessAt = now
    elseif outcome == 'aborted' or outcome == 'gone' then
      delivery.status = 'retrying'
      delivery.dueAt = now
      retrying = retrying + redis.call('ZADD', KEYS[3], now, messageId)
      if outcome == 'gone' then
        disable('gone')
        health.lastFailureAt = now
      end
    else
      delivery.failures = delivery.failures + 1
      streak = streak + 1
      failedHere = true
      health.lastFailureAt = now
      local hold = tonumber(ARGV[base + 9])
      if hold > 0 and now + hold > holdUntil then holdUntil = now + hold end
      if final then
        delivery.status = 'dead'
        dead = dead + redis.call('ZADD', KEYS[4], now, messageId)
        trimDead(stats, KEYS[4], now - retentionMs)
        deadHeadNeeded = true
        -- a receiver whose deliveries keep dying, with no success in between, is disabled in the end
        local dyingSince = tonumber(receiver[7] or '')
        if not dyingSince then
          receiver[7] = tostring(now)
          redis.call('HSET', KEYS[1], 'dyingSince', now)
        elseif now - dyingSince >= tonumber(ARGV[4]) then
          disable(ARGV[5])
        end
      else
        delivery.status = 'retrying'
        delivery.dueAt = now + tonumber(ARGV[base + 7])
        retrying = retrying + redis.call('ZADD', KEYS[3], delivery.dueAt, messageId)
      end
    end
    -- the new state and the attempt in one write; past 13 attempts the one leaving the last 10 goes
    local n = delivery.attempts
    local state = deliveryState(delivery.status, delivery.seq, n, delivery.failures, delivery.dueAt)
    redis.call('HSET', messageKey, deliveryField(ARGV[3]), state, attemptField(ARGV[3], n), ARGV[base + 5])
    if n > 13 then redis.call('HDEL', messageKey, attemptField(ARGV[3], n - 10)) end
    result[#result + 1] = delivery.status
  end
end
local queued = 0
if #leaving > 0 then queued = -redis.call('ZREM', KEYS[2], unpack(leaving)) end
if #leavingRetries > 0 then retrying = retrying - redis.call('ZREM', KEYS[3], unpack(leavingRetries)) end
for _, i in ipairs(closing) do
  local base = FIRST + i * FIELDS
  local messageKey, idemKey = messageKeys(i)
  closeDelivery(messageKey, idemKey, retentionMs, now, ARGV[base + 11], ARGV[base + 12])
end

local threshold = tonumber(ARGV[6])
if streakBefore < threshold and streak >= threshold then
  result[6] = 'failing'
elseif streakBefore >= threshold and streak < threshold then
  result[6] = 'recovered'
end
local backoffUntil = 0
if failedHere and streak >= threshold then
  local steps = {}
  for step in string.gmatch(ARGV[7], '[^,]+') do steps[#steps + 1] = tonumber(step) end
  backoffUntil = now + steps[math.min(streak - threshold + 1, #steps)]
end
if holdUntil > backoffUntil then backoffUntil = holdUntil end
if tonumber(ARGV[9]) ~= 0 then redis.call('HINCRBYFLOAT', KEYS[1], 'tat', ARGV[9]) end
local candidate = tonumber(ARGV[8])
if candidate > frontier then frontier = candidate end
bumpStats(stats, queued, retrying, dead)
result[4] = refreshHeads(stats, ARGV[3], KEYS[2], frontier) and 1 or 0
if deadHeadNeeded then refreshDeadHead(stats, ARGV[3], KEYS[4]) end
local fields = {'failStreak', streak, 'frontier', string.format('%d', frontier)}
if reopenedDone > 0 and receiver[9] then
  fields[#fields + 1] = 'reopened'
  fields[#fields + 1] = math.max(0, tonumber(receiver[9]) - reopenedDone)
end
if high > frontier then
  fields[#fields + 1] = 'high'
  fields[#fields + 1] = string.format('%d', high)
end
if health.lastSuccessAt then
  fields[#fields + 1] = 'lastSuccessAt'
  fields[#fields + 1] = health.lastSuccessAt
  if receiver[7] then redis.call('HDEL', KEYS[1], 'dyingSince') end
end
if health.lastFailureAt then
  fields[#fields + 1] = 'lastFailureAt'
  fields[#fields + 1] = health.lastFailureAt
end
if backoffUntil > 0 then
  fields[#fields + 1] = 'backoffUntil'
  fields[#fields + 1] = backoffUntil
  if not receiver[3] then
    fields[#fields + 1] = 'breakerOpenedAt'
    fields[#fields + 1] = now
    result[2] = 1
  end
elseif streak == 0 and (receiver[3] or receiver[4]) then
  redis.call('HDEL', KEYS[1], 'breakerOpenedAt', 'backoffUntil')
end
redis.call('HSET', KEYS[1], unpack(fields))
return result
