-- Everything a waiting shopper's status needs, read in one trip.
-- KEYS: settings, waiters, queue, prequeue, shopper_ticket, ticket_expiry, admissions
-- ARGV: shopper, now, rate window (s)
-- Returns {sale state, waiter state, 0-based rank or -1, in pre-queue 0/1, ticket id, ticket deadline,
--          admissions in the window, configured rate, opened_at, opens_at}
local settings = redis.call('HMGET', KEYS[1], 'state', 'rate', 'opened_at', 'opens_at')
local waiter = redis.call('HGET', KEYS[2], ARGV[1]) or ''
local rank = redis.call('ZRANK', KEYS[3], ARGV[1])
local pre = redis.call('SISMEMBER', KEYS[4], ARGV[1])
local ticket = redis.call('HGET', KEYS[5], ARGV[1]) or ''
local deadline = ''
if ticket ~= '' then deadline = redis.call('HGET', KEYS[6], ticket) or '' end
local recent = redis.call('ZCOUNT', KEYS[7], tonumber(ARGV[2]) - tonumber(ARGV[3]), '+inf')
return {settings[1] or '', waiter, rank or -1, pre, ticket, deadline, recent,
        settings[2] or '', settings[3] or '', settings[4] or ''}
