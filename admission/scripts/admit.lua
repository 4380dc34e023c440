-- Admit the next waiters of an open sale, in join order: at its rate (a token bucket), under its cap of
-- admitted shoppers not yet finished, and only while a unit not reserved waits for each of them (R - A:
-- units a returning no-show or decline gives back make room for the next in line, never a later one).
-- Issues their tickets, and logs each admitted shopper's place in the line for the audit.
-- KEYS: settings, bucket, queue, seen, waiters, shopper_ticket, ticket_sequence, tickets, ticket_owner,
--       ticket_expiry, admitted, inflight, admissions, stock, admission_log
-- ARGV: now, sale id, how long admissions are kept for the measured rate (s)
-- Returns a flat list: ticket id, shopper, deadline, ticket id, shopper, deadline, ...
-- REPLY: [ticket, shopper, deadline]
local settings = redis.call('HMGET', KEYS[1], 'state', 'rate', 'cap', 'window')
if settings[1] ~= 'open' then return {} end
local now = tonumber(ARGV[1])
local rate, cap, window = tonumber(settings[2]), tonumber(settings[3]), tonumber(settings[4])
-- The bucket holds at most one second of admissions (at least one), so a lull never turns into a burst.
local burst = math.max(1, rate)
local bucket = redis.call('HMGET', KEYS[2], 'tokens', 'at')
local tokens, at = tonumber(bucket[1]) or 0, tonumber(bucket[2]) or now
if now > at then tokens = math.min(burst, tokens + (now - at) * rate) end

local unfinished = redis.call('ZCARD', KEYS[11]) + redis.call('ZCARD', KEYS[12])
local room = tonumber(redis.call('GET', KEYS[14]) or '0') - redis.call('ZCARD', KEYS[11])
local n = math.min(math.floor(tokens), cap - unfinished, room)
local admitted = {}
while n > 0 do
  local head = redis.call('ZPOPMIN', KEYS[3])
  if #head == 0 then break end
  local shopper = head[1]
  redis.call('RPUSH', KEYS[15], head[2])
  local ticket = ARGV[2] .. '-' .. redis.call('INCR', KEYS[7])
  local deadline = tostring(now + window)
  redis.call('HSET', KEYS[8], ticket, 'admitted')
  redis.call('HSET', KEYS[9], ticket, shopper)
  redis.call('HSET', KEYS[10], ticket, deadline)
  redis.call('ZADD', KEYS[11], deadline, ticket)
  redis.call('HSET', KEYS[5], shopper, 'admitted')
  redis.call('HSET', KEYS[6], shopper, ticket)
  redis.call('ZREM', KEYS[4], shopper)
  redis.call('ZADD', KEYS[13], ARGV[1], ticket)
  table.insert(admitted, ticket)
  table.insert(admitted, shopper)
  table.insert(admitted, deadline)
  tokens = tokens - 1
  n = n - 1
end
-- Lua numbers reach Redis as integers: keep the fraction by storing strings.
redis.call('HSET', KEYS[2], 'tokens', tostring(tokens), 'at', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[13], '-inf', now - tonumber(ARGV[3]))
return admitted
