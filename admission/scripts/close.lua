-- Close a sale: no more joins or admissions; waiters learn the sale ended; unused tickets expire.
-- Reservations in flight are left to finish (their units come back through release.lua).
-- KEYS: settings, queue, prequeue, seen, waiters, admitted, tickets, ticket_owner
-- REPLY: outcome, waiters_told, tickets_expired
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'closed' then return {'already', 0, 0} end
redis.call('HSET', KEYS[1], 'state', 'closed')
local waiting = redis.call('ZRANGE', KEYS[2], 0, -1)
for _, member in ipairs(redis.call('SMEMBERS', KEYS[3])) do table.insert(waiting, member) end
for _, member in ipairs(waiting) do redis.call('HSET', KEYS[5], member, 'closed') end
local tickets = redis.call('ZRANGE', KEYS[6], 0, -1)
for _, ticket in ipairs(tickets) do
  redis.call('HSET', KEYS[7], ticket, 'expired')
  redis.call('HSET', KEYS[5], redis.call('HGET', KEYS[8], ticket), 'expired')
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[6])
return {'closed', #waiting, #tickets}
