-- The names of a message hash's fields: the scripts' one definition of them (no script spells a
-- field itself); TypeScript's is src/store/keys.ts (Keys.fields and the builders and parser beside
-- it): keep the two alike. Include this before the other includes that use it. No script builds a
-- key name: every key a script touches is given to it in KEYS (Redis Cluster routes by them).
-- Everything of a message lives in its one hash (one key to read, write and expire): the message
-- itself, then per receiver `d:<receiver>` (the delivery's state JSON), `a:<receiver>:<n>` (its
-- accepted attempt n) and `r:<receiver>:<service>:<fence>:<n>` (an attempt whose record was refused;
-- `holder` is its `<service>:<fence>`).
local function deliveryField(receiverId) return 'd:' .. receiverId end
local function attemptField(receiverId, n) return 'a:' .. receiverId .. ':' .. n end
local function refusedField(receiverId, holder, n) return 'r:' .. receiverId .. ':' .. holder .. ':' .. n end
-- A new delivery state, the value of `d:<receiver>` (StoredDelivery in src/store/attempts.ts), for
-- the scripts that write one per delivery (accept, record): the JSON cjson.encode would write, from
-- one string.format, which takes 0.8 us to cjson's 2. Counts and whole milliseconds (%d truncates).
-- Scripts that change a stored state decode it and encode it again (includes/delivery.lua).
local function deliveryState(status, seq, attempts, failures, dueAt)
  return string.format('{"status":"%s","seq":%d,"attempts":%d,"failures":%d,"dueAt":%d}', status, seq, attempts, failures, dueAt)
end
