-- Expire admitted tickets whose checkout window has passed unused: their slot goes to the next waiter.
-- A no-show counts among the admitted shoppers who left without buying (the standby chance's measure).
-- KEYS: admitted, tickets, ticket_owner, waiters, outcomes
-- ARGV: now, most to expire in one call
-- Returns the expired ticket ids.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, ticket in ipairs(due) do
  redis.call('HSET', KEYS[2], ticket, 'expired')
  redis.call('HSET', KEYS[4], redis.call('HGET', KEYS[3], ticket), 'expired')
  redis.call('ZREM', KEYS[1], ticket)
end
if #due > 0 then redis.call('HINCRBY', KEYS[5], 'left', #due) end
return due
