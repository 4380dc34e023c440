-- Set a sale's counters from its tickets, after recovery put tickets back (admission/recovery.py):
-- sold = the units of paid tickets, held = those of reserved ones, and the units not reserved what is
-- left of the sale's units after both and after what went back to the catalog. That may be below zero
-- for a while: reservations made on a rolled-back counter hold more than is left, and the orders
-- service refuses their payments (its allotment); as they are released the counter climbs back to 0.
-- Moves the ticket numbers on by `gap` past every number an order used, so that a ticket issued before
-- the loss, which Redis forgot but a worker may still be paying, is never issued again.
-- KEYS: settings, stock, held, sold, tickets, reservations, returns, ticket_sequence
-- ARGV: gap, the highest ticket number of the sale's orders
-- Returns {sold, held, left, next ticket number}
-- REPLY: sold, held, left, ticket_number
local units = tonumber(redis.call('HGET', KEYS[1], 'units') or '0')
local returned = tonumber(redis.call('HGET', KEYS[7], 'units') or '0')
local reservations = redis.call('HGETALL', KEYS[6])
local sold, held = 0, 0
for i = 1, #reservations, 2 do
  local state = redis.call('HGET', KEYS[5], reservations[i])
  if state == 'paid' then
    sold = sold + tonumber(reservations[i + 1])
  elseif state == 'reserved' then
    held = held + tonumber(reservations[i + 1])
  end
end
local left = units - sold - held - returned
redis.call('SET', KEYS[4], sold)
redis.call('SET', KEYS[3], held)
redis.call('SET', KEYS[2], left)
local number = math.max(tonumber(redis.call('GET', KEYS[8]) or '0'), tonumber(ARGV[2])) + tonumber(ARGV[1])
redis.call('SET', KEYS[8], number)
return {sold, held, left, number}
