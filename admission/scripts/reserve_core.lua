-- The one reservation rule, shared by reserve.lua, reserve_batch.lua and recheck.lua (the loader puts it
-- first).
-- KEYS: settings, tickets, ticket_owner, ticket_expiry, admitted, inflight, reservations, bought, stock,
--       held, waiters, outcomes

-- End an admitted ticket that reserved nothing in `state` (expired | sold_out), and its slot with it. One
-- that expired left without buying; one sold out had no unit to buy.
local function end_unreserved(ticket, owner, state)
  redis.call('HSET', KEYS[2], ticket, state)
  redis.call('ZREM', KEYS[5], ticket)
  redis.call('HSET', KEYS[11], owner, state)
  if state == 'expired' then redis.call('HINCRBY', KEYS[12], 'left', 1) end
end

-- Nothing left, and nothing held that could come back (a decline, an expiry): truly sold out.
local function nothing_left(stock)
  return stock <= 0 and tonumber(redis.call('GET', KEYS[10]) or '0') <= 0
end

-- A ticket reserves once: it must be admitted and unexpired, the shopper's units so far plus `qty`
-- must stay within the sale's per-shopper limit, and `qty` units must be left. Then, all at once:
-- stock down, held up, the shopper's units up, the reservation recorded, the ticket RESERVED.
-- Returns {code, units, stock left}. A ticket already reserved or paid answers its reservation again.
local function reserve_one(ticket, qty, now)
  local state = redis.call('HGET', KEYS[2], ticket)
  local stock = tonumber(redis.call('GET', KEYS[9]) or '0')
  if not state then return {'unknown_ticket', 0, stock} end
  local held_units = tonumber(redis.call('HGET', KEYS[7], ticket) or '0')
  if state == 'reserved' then return {'already_reserved', held_units, stock} end
  if state == 'paid' then return {'already_paid', held_units, stock} end
  if state == 'expired' then return {'expired', 0, stock} end
  if state == 'sold_out' then return {'sold_out', 0, stock} end
  if state ~= 'admitted' then return {'ticket_used', 0, stock} end -- declined or released
  local owner = redis.call('HGET', KEYS[3], ticket)
  if now > tonumber(redis.call('HGET', KEYS[4], ticket)) then
    end_unreserved(ticket, owner, 'expired')
    return {'expired', 0, stock}
  end
  if qty < 1 then return {'bad_quantity', 0, stock} end
  local limit = tonumber(redis.call('HGET', KEYS[1], 'limit'))
  local bought = tonumber(redis.call('HGET', KEYS[8], owner) or '0')
  if bought + qty > limit then return {'limit_exceeded', 0, stock} end
  if nothing_left(stock) then
    end_unreserved(ticket, owner, 'sold_out')
    return {'sold_out', 0, 0}
  end
  -- Units held by others may still come back (a decline, an expiry): not final, the ticket may retry.
  if stock < qty then return {'insufficient', 0, stock} end
  redis.call('DECRBY', KEYS[9], qty)
  redis.call('INCRBY', KEYS[10], qty)
  redis.call('HINCRBY', KEYS[8], owner, qty)
  redis.call('HSET', KEYS[7], ticket, qty)
  redis.call('HSET', KEYS[2], ticket, 'reserved')
  redis.call('ZREM', KEYS[5], ticket)
  redis.call('ZADD', KEYS[6], now, ticket)
  return {'reserved', qty, stock - qty}
end
