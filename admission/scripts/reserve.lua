-- Reserve units for one ticket (the rule is reserve_one, in reserve_core.lua).
-- ARGV: ticket id, quantity, now
-- REPLY: code, units, stock_left
return reserve_one(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
