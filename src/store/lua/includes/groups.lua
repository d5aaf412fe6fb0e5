-- The shard groups (src/store/keys.ts) a script is given, as the caller lays them out from
-- KEYS[firstKey] and ARGV[firstArg] to the end: per group six keys (the message's copy there, the
-- group's sequence, its four statistics keys: includes/stats.lua) then `perReceiver` keys per
-- receiver, and one argument (the group's receiver count n) then the n receiver ids.
-- Returns {copy, sequence, stats, receivers = {{id, keys}...}} per group, in the caller's order.
-- Needs includes/stats.lua.
local function readGroups(firstKey, firstArg, perReceiver)
  local groups = {}
  local key, arg = firstKey, firstArg
  while arg <= #ARGV do
    local group = {copy = KEYS[key], sequence = KEYS[key + 1], stats = statsKeys(key + 2), receivers = {}}
    local count = tonumber(ARGV[arg])
    for i = 1, count do
      local keys = {}
      for j = 1, perReceiver do keys[j] = KEYS[key + 5 + (i - 1) * perReceiver + j] end
      group.receivers[i] = {id = ARGV[arg + i], keys = keys}
    end
    groups[#groups + 1] = group
    key, arg = key + 6 + count * perReceiver, arg + 1 + count
  end
  return groups
end
