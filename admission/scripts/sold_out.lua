-- Tell waiters at once when the units left cannot reach them.
-- With R units not reserved, H units held by reservations that may still come back and A admitted
-- shoppers who have not reserved yet, a waiter with k people ahead can only get a unit if R + H > A + k.
-- Everyone at or beyond rank R + H - A is sold out; when R + H - A <= 0, so is the whole pre-queue.
-- KEYS: stock, held, admitted, queue, prequeue, waiters, seen
-- Returns {room (R + H - A), shoppers told}
-- REPLY: room, told
local room = tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(redis.call('GET', KEYS[2]) or '0')
    - redis.call('ZCARD', KEYS[3])
local first = room
if first < 0 then first = 0 end
local told = redis.call('ZRANGE', KEYS[4], first, -1)
if #told > 0 then redis.call('ZREMRANGEBYRANK', KEYS[4], first, -1) end
if room <= 0 then
  for _, shopper in ipairs(redis.call('SMEMBERS', KEYS[5])) do table.insert(told, shopper) end
  redis.call('DEL', KEYS[5])
end
for _, shopper in ipairs(told) do
  redis.call('HSET', KEYS[6], shopper, 'sold_out')
  redis.call('ZREM', KEYS[7], shopper)
end
return {room, #told}
