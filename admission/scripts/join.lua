-- Give a shopper one place in a sale's waiting room, or answer the place they already have.
-- KEYS: settings, stock, held, admitted, prequeue, queue, sequence, seen, waiters
-- ARGV: shopper, poll deadline (epoch s)
-- Returns {outcome, waiter state}: outcome is joined | existing | not_open (state = the sale's state).
-- REPLY: outcome, detail
local state = redis.call('HGET', KEYS[1], 'state')
local current = redis.call('HGET', KEYS[9], ARGV[1])
if current then return {'existing', current} end
if state ~= 'armed' and state ~= 'open' and state ~= 'paused' then return {'not_open', state or ''} end

-- Units that could still reach a waiter: not reserved (R) + held and maybe coming back (H) - owed to
-- the admitted shoppers who have not reserved yet (A).
local room = tonumber(redis.call('GET', KEYS[2]) or '0') + tonumber(redis.call('GET', KEYS[3]) or '0')
    - redis.call('ZCARD', KEYS[4])
local waiting
if state == 'armed' then
  waiting = 0 -- the pre-queue is a lottery: nobody is ahead until it is shuffled
else
  waiting = redis.call('ZCARD', KEYS[6])
end
if room <= waiting then
  redis.call('HSET', KEYS[9], ARGV[1], 'sold_out')
  return {'joined', 'sold_out'}
end
if state == 'armed' then
  redis.call('SADD', KEYS[5], ARGV[1])
else
  redis.call('ZADD', KEYS[6], redis.call('INCR', KEYS[7]), ARGV[1])
end
redis.call('HSET', KEYS[9], ARGV[1], 'waiting')
redis.call('ZADD', KEYS[8], ARGV[2], ARGV[1])
return {'joined', 'waiting'}
