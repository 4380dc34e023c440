-- End a ticket that did not pay, exactly once: units it reserved go back to the counter.
-- The shopper left without buying: counted so (the standby chance's measure).
-- KEYS: tickets, ticket_owner, admitted, inflight, reservations, bought, stock, held, waiters, outcomes
-- ARGV: ticket id, final state (declined | released | expired)
-- Returns {code, units returned, the ticket's state when refused}: released | already (same final
-- state before) | refused
-- REPLY: code, units, refused_state
local state = redis.call('HGET', KEYS[1], ARGV[1])
if not state then return {'refused', 0, 'unknown'} end
if state == ARGV[2] then return {'already', tonumber(redis.call('HGET', KEYS[5], ARGV[1]) or '0')} end
local owner = redis.call('HGET', KEYS[2], ARGV[1])
local outcome = 'expired'
if ARGV[2] == 'declined' then outcome = 'done' end
if state == 'reserved' then
  local qty = tonumber(redis.call('HGET', KEYS[5], ARGV[1]))
  redis.call('INCRBY', KEYS[7], qty)
  redis.call('DECRBY', KEYS[8], qty)
  redis.call('HINCRBY', KEYS[6], owner, -qty)
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('ZREM', KEYS[4], ARGV[1])
  redis.call('HSET', KEYS[9], owner, outcome)
  redis.call('HINCRBY', KEYS[10], 'left', 1)
  return {'released', qty}
end
if state == 'admitted' then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('HSET', KEYS[9], owner, outcome)
  redis.call('HINCRBY', KEYS[10], 'left', 1)
  return {'released', 0}
end
return {'refused', 0, state}
