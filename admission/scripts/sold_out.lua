-- Tell everyone still in line that the sale is sold out, once it is true: nothing is left and nothing is
-- held (every unit is paid). Until then nobody is told so: a waiter the units cannot reach yet is on
-- standby (status.lua), and keeps their place for the units that come back.
-- KEYS: stock, held, queue, prequeue, waiters, seen, outcomes
-- Returns {units unpaid (R + H), shoppers told}
-- REPLY: unpaid, told
local unpaid = tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(redis.call('GET', KEYS[2]) or '0')
if unpaid > 0 then return {unpaid, 0} end
local told = redis.call('ZRANGE', KEYS[3], 0, -1)
for _, shopper in ipairs(redis.call('SMEMBERS', KEYS[4])) do table.insert(told, shopper) end
redis.call('DEL', KEYS[3], KEYS[4])
for _, shopper in ipairs(told) do
  redis.call('HSET', KEYS[5], shopper, 'sold_out')
  redis.call('ZREM', KEYS[6], shopper)
end
if #told > 0 then redis.call('HINCRBY', KEYS[7], 'turned_away', #told) end
return {0, #told}
