-- Converts one message from the layout before schema 2 (src/store/migrate.ts) into its one hash,
-- in one atomic step:
--   `d:<receiverId>`  the delivery state, the old deliveries hash's value as it was;
--   `a:<receiverId>:<n>`  accepted attempt n (its JSON without `receiverId`), kept for n <= 3 and
--     n > attempts - 10 (the state's count): those between are the derived `omitted`, as the
--     old list's marker counted them (the marker itself is dropped);
--   `r:<receiverId>:legacy:<index>:<n>`  an old entry that cannot be an `a:` field: its number is
--     not one of the state's attempts (a record the store refused: stale fence, or a delivery no
--     longer unfinished), or another entry has it (the one with the highest fence keeps `a:`, a
--     newer holder's; the first on a tie). `index` is the entry's place in the receiver's old
--     history, 1-based, the whole-message list's entries first (as the old reader read them).
-- `open` is counted from the states when the message predates it (pending, delivering and
-- retrying are open); `legacy` goes; the old keys are deleted. The hash keeps its expiry (HSET
-- leaves it): a final message its remaining life, an open one none.
--
-- Idempotent: a message without a deliveries hash (converted already) or without its hash
-- (expired meanwhile) is left alone. Several processes may convert the same message.
--
-- KEYS[1] message hash, KEYS[2] deliveries hash, KEYS[3] whole-message attempts list (legacy),
-- then one attempts list per receiver in ARGV
-- ARGV the receiver ids of KEYS[4...], in order: every one in `receiverIds` and in the deliveries hash
-- Returns 'converted', 'skipped', or 'changed' (the message names a receiver not in ARGV: old
-- layout written after the caller read it, by a process of the previous version still running).
--@include includes/keys.lua
if redis.call('EXISTS', KEYS[2]) == 0 or redis.call('EXISTS', KEYS[1]) == 0 then return 'skipped' end

local listOf = {}
for i, receiverId in ipairs(ARGV) do listOf[receiverId] = KEYS[3 + i] end
local message = redis.call('HMGET', KEYS[1], 'receiverIds', 'open')
for receiverId in string.gmatch(message[1] or '', '[^,]+') do
  if not listOf[receiverId] then return 'changed' end
end
local states, open = {}, 0
local stored = redis.call('HGETALL', KEYS[2])
for i = 1, #stored, 2 do
  if not listOf[stored[i]] then return 'changed' end
  local state = cjson.decode(stored[i + 1])
  states[stored[i]] = state
  if state.status == 'pending' or state.status == 'delivering' or state.status == 'retrying' then open = open + 1 end
end

-- HSET in chunks: a legacy list may be long, and unpack has a limit
local fields = {}
local function put(field, value)
  fields[#fields + 1] = field
  fields[#fields + 1] = value
  if #fields >= 1000 then
    redis.call('HSET', KEYS[1], unpack(fields))
    fields = {}
  end
end
for i = 1, #stored, 2 do put(deliveryField(stored[i]), stored[i + 1]) end

-- every receiver's old entries, in reading order: the whole-message list's, then its own list's
local histories, order = {}, {}
local function add(receiverId, raw, entry)
  if not histories[receiverId] then
    histories[receiverId] = {}
    order[#order + 1] = receiverId
  end
  local history = histories[receiverId]
  history[#history + 1] = {raw = raw, entry = entry}
end
for _, raw in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
  local entry = cjson.decode(raw)
  if entry.omitted == nil and type(entry.receiverId) == 'string' then add(entry.receiverId, raw, entry) end
end
for i, receiverId in ipairs(ARGV) do
  for _, raw in ipairs(redis.call('LRANGE', KEYS[3 + i], 0, -1)) do
    local entry = cjson.decode(raw)
    if entry.omitted == nil then add(receiverId, raw, entry) end
  end
end

-- The entry's JSON without `receiverId`: as written (JSON.stringify puts it first), cut out of
-- the text so the rest stays byte for byte; re-encoded only when written otherwise.
local function withoutReceiver(raw, entry)
  if type(entry.receiverId) == 'string' then
    local head = '{"receiverId":' .. cjson.encode(entry.receiverId) .. ','
    if string.sub(raw, 1, #head) == head then return '{' .. string.sub(raw, #head + 1) end
  end
  entry.receiverId = nil
  return cjson.encode(entry)
end

for _, receiverId in ipairs(order) do
  local history = histories[receiverId]
  local count = states[receiverId] and tonumber(states[receiverId].attempts) or 0
  -- per attempt number of the state's, the entry that was accepted
  local accepted = {}
  for index, item in ipairs(history) do
    local n = tonumber(item.entry.attempt) or 0
    item.n = n
    if n >= 1 and n <= count and n == math.floor(n) then
      local best = accepted[n]
      if not best or (tonumber(item.entry.fence) or 0) > (tonumber(history[best].entry.fence) or 0) then accepted[n] = index end
    end
  end
  for index, item in ipairs(history) do
    local json = withoutReceiver(item.raw, item.entry)
    local n = string.format('%d', item.n)
    if accepted[item.n] ~= index then
      put(refusedField(receiverId, 'legacy:' .. index, n), json)
    elseif item.n <= 3 or item.n > count - 10 then
      put(attemptField(receiverId, n), json)
    end
  end
end

if not message[2] then put('open', open) end
if #fields > 0 then redis.call('HSET', KEYS[1], unpack(fields)) end
redis.call('HDEL', KEYS[1], 'legacy')
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
return 'converted'
