-- Mark reserved tickets paid, each once: its units leave "held" for "sold". One call confirms a whole
-- drain batch (one round trip, not one script call per ticket).
-- KEYS: tickets, ticket_owner, inflight, reservations, held, sold, waiters, outcomes
-- ARGV: ticket ids
-- Returns per ticket {code, units, the ticket's state when refused ('' otherwise)}: paid | already | refused
-- REPLY: [code, units, refused_state]
local answers = {}
local function answer(code, units, refused_state)
  answers[#answers + 1] = code
  answers[#answers + 1] = units
  answers[#answers + 1] = refused_state
end
for _, ticket in ipairs(ARGV) do
  local state = redis.call('HGET', KEYS[1], ticket)
  local qty = tonumber(redis.call('HGET', KEYS[4], ticket) or '0')
  if state == 'paid' then
    answer('already', qty, '')
  elseif state ~= 'reserved' then
    answer('refused', 0, state or 'unknown')
  else
    redis.call('DECRBY', KEYS[5], qty)
    redis.call('INCRBY', KEYS[6], qty)
    redis.call('HSET', KEYS[1], ticket, 'paid')
    redis.call('ZREM', KEYS[3], ticket)
    redis.call('HSET', KEYS[7], redis.call('HGET', KEYS[2], ticket), 'done')
    redis.call('HINCRBY', KEYS[8], 'bought', 1)
    answer('paid', qty, '')
  end
end
return answers
