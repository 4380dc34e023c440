-- Take their place from queued shoppers who stopped polling past their deadline.
-- Pre-queue members stay in `seen` untouched: after the shuffle they are judged like everyone else.
-- The deadlines are on the sale's clock (clock.lua), which stood still while the front door was away.
-- KEYS: seen, queue, waiters
-- ARGV: the sale's clock now (clock.lua's answer), most to look at in one call
-- Returns the evicted shoppers.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local evicted = {}
for _, shopper in ipairs(due) do
  if redis.call('ZREM', KEYS[2], shopper) == 1 then
    redis.call('ZREM', KEYS[1], shopper)
    redis.call('HSET', KEYS[3], shopper, 'expired')
    table.insert(evicted, shopper)
  end
end
return evicted
