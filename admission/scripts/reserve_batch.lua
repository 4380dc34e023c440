-- Reserve for many tickets in one call, each by the same rule as reserve.lua, in the order given.
-- ARGV: now, then ticket id, quantity, ticket id, quantity, ...
-- Returns a flat list: code, units, stock left, per ticket.
-- REPLY: [code, units, stock_left]
local now = tonumber(ARGV[1])
local answers = {}
for i = 2, #ARGV, 2 do
  local answer = reserve_one(ARGV[i], tonumber(ARGV[i + 1]), now)
  answers[#answers + 1] = answer[1]
  answers[#answers + 1] = answer[2]
  answers[#answers + 1] = answer[3]
end
return answers
