-- Mark a reserved ticket paid, once: its units leave "held" for "sold".
-- KEYS: tickets, ticket_owner, inflight, reservations, held, sold, waiters, outcomes
-- ARGV: ticket id
-- Returns {code, units, the ticket's state when refused}: paid | already | refused
-- REPLY: code, units, refused_state
local state = redis.call('HGET', KEYS[1], ARGV[1])
local qty = tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0')
if state == 'paid' then return {'already', qty} end
if state ~= 'reserved' then return {'refused', 0, state or 'unknown'} end
redis.call('DECRBY', KEYS[5], qty)
redis.call('INCRBY', KEYS[6], qty)
redis.call('HSET', KEYS[1], ARGV[1], 'paid')
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[7], redis.call('HGET', KEYS[2], ARGV[1]), 'done')
redis.call('HINCRBY', KEYS[8], 'bought', 1)
return {'paid', qty}
