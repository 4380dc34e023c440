-- Give a shopper one place in a sale's waiting room, or answer the place they already have.
-- A newcomer is told sold out only when it is true: nothing left and nothing held (every unit paid).
-- While any unit is unpaid they join the line; status.lua tells them if they are on standby.
-- KEYS: settings, stock, held, prequeue, queue, sequence, seen, waiters, outcomes
-- ARGV: shopper, poll deadline (epoch s)
-- Returns {outcome, waiter state}: outcome is joined | existing | not_open (state = the sale's state).
-- REPLY: outcome, detail
local state, downtime = unpack(redis.call('HMGET', KEYS[1], 'state', 'downtime'))
local current = redis.call('HGET', KEYS[8], ARGV[1])
if current then return {'existing', current} end
if state ~= 'armed' and state ~= 'open' and state ~= 'paused' then return {'not_open', state or ''} end

if tonumber(redis.call('GET', KEYS[2]) or '0') + tonumber(redis.call('GET', KEYS[3]) or '0') <= 0 then
  redis.call('HSET', KEYS[8], ARGV[1], 'sold_out')
  redis.call('HINCRBY', KEYS[9], 'turned_away', 1)
  return {'joined', 'sold_out'}
end
if state == 'armed' then
  redis.call('SADD', KEYS[4], ARGV[1])
else
  redis.call('ZADD', KEYS[5], redis.call('INCR', KEYS[6]), ARGV[1])
end
redis.call('HSET', KEYS[8], ARGV[1], 'waiting')
-- On the sale's clock, as evict.lua judges it: wall time less the time the front door was away.
redis.call('ZADD', KEYS[7], tonumber(ARGV[2]) - (tonumber(downtime) or 0), ARGV[1])
return {'joined', 'waiting'}
