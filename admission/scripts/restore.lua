-- Put back, from the database's record, the tickets of paid and paying sale orders that Redis lost or
-- rolled back (admission/recovery.py). A paid order's ticket ends PAID, a paying one's is RESERVED and
-- left to the reconciler (in flight since the epoch, so its lease has passed), each with its shopper
-- and units; its shopper leaves the line. A reserved ticket whose order was paid is confirmed, as the
-- drain would have. The counters are not touched here: recount.lua sets them from the tickets after.
-- KEYS: tickets, ticket_owner, ticket_expiry, reservations, bought, inflight, admitted, waiters,
--       shopper_ticket, queue, seen, held, sold, outcomes
-- ARGV: now, then groups of ticket, shopper, units, db state (paid | paying)
-- Returns {confirmed, restored_paid, restored_paying}
-- REPLY: confirmed, restored_paid, restored_paying
local confirmed, restored_paid, restored_paying = 0, 0, 0
local now = ARGV[1]

local function put_back(ticket, shopper, units, state)
  local before = redis.call('HGET', KEYS[1], ticket)
  redis.call('HSET', KEYS[1], ticket, state)
  redis.call('HSET', KEYS[2], ticket, shopper)
  redis.call('HSETNX', KEYS[3], ticket, now)
  redis.call('HSET', KEYS[4], ticket, units)
  if before ~= 'reserved' and before ~= 'paid' then
    redis.call('HINCRBY', KEYS[5], shopper, units)  -- released or never reserved: not counted
  end
  redis.call('ZREM', KEYS[7], ticket)
  redis.call('ZREM', KEYS[10], shopper)
  redis.call('ZREM', KEYS[11], shopper)
  redis.call('HSETNX', KEYS[9], shopper, ticket)
  if state == 'paid' then
    redis.call('ZREM', KEYS[6], ticket)
    redis.call('HSET', KEYS[8], shopper, 'done')
    redis.call('HINCRBY', KEYS[14], 'bought', 1)
  else
    redis.call('ZADD', KEYS[6], 0, ticket)
    redis.call('HSET', KEYS[8], shopper, 'admitted')
  end
end

for i = 2, #ARGV, 4 do
  local ticket, shopper, units, wanted = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local state = redis.call('HGET', KEYS[1], ticket)
  if wanted == 'paid' and state == 'reserved' then
    local qty = tonumber(redis.call('HGET', KEYS[4], ticket) or '0')
    redis.call('DECRBY', KEYS[12], qty)
    redis.call('INCRBY', KEYS[13], qty)
    redis.call('HSET', KEYS[1], ticket, 'paid')
    redis.call('ZREM', KEYS[6], ticket)
    redis.call('HSET', KEYS[8], shopper, 'done')
    redis.call('HINCRBY', KEYS[14], 'bought', 1)
    confirmed = confirmed + 1
  elseif wanted == 'paid' and state ~= 'paid' then
    put_back(ticket, shopper, units, 'paid')
    restored_paid = restored_paid + 1
  elseif wanted == 'paying' and state ~= 'reserved' and state ~= 'paid' then
    put_back(ticket, shopper, units, 'reserved')
    restored_paying = restored_paying + 1
  end
end
return {confirmed, restored_paid, restored_paying}
