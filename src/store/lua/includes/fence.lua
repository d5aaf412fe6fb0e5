-- Fencing: the receiver hash keeps the highest fence any claim or record has shown,
-- `maxFence:<lock service>` (fences of different lock services are unrelated numbers, so a switch
-- of backend starts a mark of its own instead of being refused forever). A lower fence belongs to
-- a holder that lost the lock to a newer one: refused, nothing changes. An equal or higher fence
-- raises the mark, which fences out every older holder from then on. A lock service rebuilt from
-- scratch restarts its fences low, and every holder is refused until they pass the mark again
-- (emitters warn "store refused our fence" with stillHeldLocally=true): then stop the emitters and
-- HDEL the receivers' `maxFence:<service>` fields. `mark` is the field's value
-- as the caller read it (with the rest of the hash, in one command). Returns the mark when the
-- fence is refused, nil when it is accepted. Call it only for a receiver hash that exists.
local function checkFence(receiverKey, service, mark, fenceArg)
  local fence = tonumber(fenceArg)
  local highest = tonumber(mark or '0')
  if fence < highest then return highest end
  if fence > highest then redis.call('HSET', receiverKey, 'maxFence:' .. service, string.format('%d', fence)) end
  return nil
end
