-- Give tickets time back: each deadline moves on to the one given, never back, and only while the ticket
-- is live (admitted, or reserved and unpaid). A checkout the platform held is handed back with the time
-- its shopper had left when submitting (or at least a useful minimum), not the seconds the outage left.
-- KEYS: tickets, ticket_expiry, admitted
-- ARGV: pairs of a ticket id and its new deadline (epoch s)
-- Returns each ticket's deadline afterwards, in order ('' for a ticket that has ended).
local deadlines = {}
for i = 1, #ARGV, 2 do
  local ticket, wanted = ARGV[i], tonumber(ARGV[i + 1])
  local state = redis.call('HGET', KEYS[1], ticket)
  local deadline = ''
  if state == 'admitted' or state == 'reserved' then
    deadline = redis.call('HGET', KEYS[2], ticket) or '0'
    if wanted > tonumber(deadline) then
      deadline = ARGV[i + 1]
      redis.call('HSET', KEYS[2], ticket, deadline)
      -- The admitter expires admitted tickets by this zset's score: it must follow.
      if state == 'admitted' then redis.call('ZADD', KEYS[3], 'XX', deadline, ticket) end
    end
  end
  deadlines[#deadlines + 1] = deadline
end
return deadlines
