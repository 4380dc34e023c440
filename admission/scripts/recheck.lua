-- Ask again, reserving nothing, about tickets whose shoppers were told fewer units are left: an admitted
-- one ends expired once its window has passed, or sold out once nothing is left and nothing is held
-- (the rules of reserve_one, in reserve_core.lua). Any other stays as it is.
-- ARGV: now, then ticket ids
-- Returns each ticket's state afterwards, in order (unknown_ticket if the sale never issued it).
local now = tonumber(ARGV[1])
local stock = tonumber(redis.call('GET', KEYS[9]) or '0')
local states = {}
for i = 2, #ARGV do
  local ticket = ARGV[i]
  local state = redis.call('HGET', KEYS[2], ticket) or 'unknown_ticket'
  if state == 'admitted' then
    local owner = redis.call('HGET', KEYS[3], ticket)
    if now > tonumber(redis.call('HGET', KEYS[4], ticket)) then
      state = 'expired'
    elseif nothing_left(stock) then
      state = 'sold_out'
    end
    if state ~= 'admitted' then end_unreserved(ticket, owner, state) end
  end
  states[#states + 1] = state
end
return states
