-- The names of a message's keys, as src/store/keys.ts builds them (include this before the other
-- includes that use it). A script reaches them from a message id it read, not from KEYS.
local function messageKeyOf(prefix, messageId) return prefix .. ':msg:' .. messageId end
local function deliveriesKeyOf(prefix, messageId) return prefix .. ':dlv:' .. messageId end
local function attemptsKeyOf(prefix, messageId, receiverId) return prefix .. ':att:' .. messageId .. ':' .. receiverId end
