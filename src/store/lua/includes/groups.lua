-- The shard groups (src/store/keys.ts) a script is given, as the caller lays them out from
-- KEYS[firstKey] and ARGV[firstArg] to the end: per group two keys (the message's copy there, the
-- group's sequence) then `perReceiver` keys per receiver, and two arguments (the group's key
-- prefix, its receiver count n) then the n receiver ids.
-- Returns {prefix, copy, sequence, receivers = {{id, keys}...}} per group, in the caller's order.
local function readGroups(firstKey, firstArg, perReceiver)
  local groups = {}
  local key, arg = firstKey, firstArg
  while arg <= #ARGV do
    local group = {prefix = ARGV[arg], copy = KEYS[key], sequence = KEYS[key + 1], receivers = {}}
    local count = tonumber(ARGV[arg + 1])
    for i = 1, count do
      local keys = {}
      for j = 1, perReceiver do keys[j] = KEYS[key + 1 + (i - 1) * perReceiver + j] end
      group.receivers[i] = {id = ARGV[arg + 1 + i], keys = keys}
    end
    groups[#groups + 1] = group
    key, arg = key + 2 + count * perReceiver, arg + 2 + count
  end
  return groups
end
