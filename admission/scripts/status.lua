-- A shopper's status in one trip: where they stand, the admission rate their ETA rests on, when to ask
-- again, and, since asking keeps the place, the waiter's seen deadline moved on (on the sale's clock).
-- A waiter of an open sale whom the units not reserved cannot reach, given the people ahead, is told
-- they are on standby (the stored state stays waiting: standby is a place in the same line), with their
-- standby number, the units left and the tickets in play whose units may come back to the line.
-- KEYS: settings, waiters, queue, prequeue, shopper_ticket, ticket_expiry, admissions, seen, stock,
--       admitted, inflight, outcomes
-- ARGV: shopper, now, rate window (s), grace (s), opening spread (s)
-- Returns {sale state, waiter state (waiting | standby | a stored one), 0-based rank or -1,
--          in pre-queue 0/1, ticket id, ticket deadline, rate used (a string: Redis would truncate a
--          fraction), rate measured 0/1, poll hint (s) or -1 when the state is final, seconds until
--          opening or -1, units left (R), standby number or 0, tickets in play (admitted + reserved
--          unpaid), admitted shoppers who left without buying, admitted shoppers who bought}
-- REPLY: sale_state, waiter, rank, prequeued, ticket, ticket_deadline, rate, rate_measured, poll_hint,
--   opens_in, units_left, standby, in_play, left_unbought, bought
--
-- The poll hint is clamp(eta / 5, 1, 30) s. For N waiters admitted at r per second (the waiter with k
-- people ahead has eta k / r): those with k < 5r poll every second, 5r requests/s; those with
-- 5r <= k < 150r every k / 5r s, sum of 5r / k over that range ~ 5r ln 30 ~ 17r requests/s; the rest
-- every 30 s, at most N / 30 requests/s. In all at most ~22r + N / 30: for N = 10,000 and r = 50/s,
-- ~1,433 requests/s, and however long the line, its front costs only ~22r.
-- At the 30 s cap each waiter asks at their own second of the half-minute (their id mod 30): a crowd that
-- joined in one second would otherwise come back together every 30 s (all N in one second), and with
-- it the back's N / 30 requests/s are spread evenly (bench/poll_rate.py measures both).
local shopper, now, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local grace, spread = tonumber(ARGV[4]), tonumber(ARGV[5])
local state, configured, opened_at, opens_at, downtime =
  unpack(redis.call('HMGET', KEYS[1], 'state', 'rate', 'opened_at', 'opens_at', 'downtime'))
state = state or ''
local waiter = redis.call('HGET', KEYS[2], shopper) or ''

if waiter ~= 'waiting' then
  local ticket, deadline = '', ''
  if waiter == 'admitted' then
    ticket = redis.call('HGET', KEYS[5], shopper) or ''
    if ticket ~= '' then deadline = redis.call('HGET', KEYS[6], ticket) or '' end
  end
  return {state, waiter, -1, 0, ticket, deadline, '', 0, -1, -1, 0, 0, 0, 0, 0}
end

local function hint_for(seconds)
  return math.min(30, math.max(1, math.ceil(seconds)))
end
local function keep_place(hint)
  -- A waiter unseen for max(3 x hint, grace) loses the place. XX: only a waiter has an entry;
  -- GT: a later deadline is never shortened. The deadline is on the sale's clock (clock.lua): time
  -- the front door was away does not count against the waiter.
  local clock = now - (tonumber(downtime) or 0)
  redis.call('ZADD', KEYS[8], 'XX', 'GT', clock + math.max(3 * hint, grace), shopper)
end

if redis.call('SISMEMBER', KEYS[4], shopper) == 1 then
  -- Before the draw nobody has a place: come back right after opening, spread by shopper so that the
  -- whole pre-queue does not ask in the same second.
  local opens_in = math.max(0, (tonumber(opens_at) or now) - now)
  local hint = hint_for(opens_in)
  if opens_in <= 30 then hint = hint + tonumber(shopper) % spread end
  keep_place(hint)
  return {state, waiter, -1, 1, '', '', '', 0, hint, math.ceil(opens_in), 0, 0, 0, 0, 0}
end

local rank = redis.call('ZRANK', KEYS[3], shopper) or -1
-- The measured rate: admissions in the last `window` seconds (or since opening, if sooner) per second;
-- the configured one while nobody was admitted in that time.
local rate, measured = tonumber(configured) or 0, 0
local recent = redis.call('ZCOUNT', KEYS[7], now - window, '+inf')
if recent > 0 and tonumber(opened_at) then
  rate = recent / math.min(window, math.max(now - tonumber(opened_at), 1))
  measured = 1
end
-- While paused, poll as if open: the front learns of a resume within a second or two.
local hint = hint_for(math.max(rank, 0) / rate / 5)
if hint == 30 then
  hint = (tonumber(shopper) - math.floor(now)) % 30
  if hint == 0 then hint = 30 end
end
-- Units not reserved and not owed to an admitted shopper reach the first `reachable` waiters; the rest
-- wait on standby for units that come back (a no-show, a decline given up, a reservation released).
local left = tonumber(redis.call('GET', KEYS[9]) or '0')
local admitted = redis.call('ZCARD', KEYS[10])
local reachable = math.max(left - admitted, 0)
local standby = 0
if state == 'open' or state == 'paused' then
  if rank >= reachable then
    standby = rank - reachable + 1
    waiter = 'standby'
  end
end
local in_play = admitted + redis.call('ZCARD', KEYS[11])
local outcomes = redis.call('HMGET', KEYS[12], 'left', 'bought')
-- A standby waiter within reach of the tickets in play moves up the moment one of them gives units
-- back: they ask every two seconds; one further back asks as rarely as their place allows.
if standby > 0 and standby <= in_play then hint = math.min(hint, 2) end
keep_place(hint)
return {state, waiter, rank, 0, '', '', string.format('%.17g', rate), measured, hint, -1, left, standby,
        in_play, tonumber(outcomes[1] or '0'), tonumber(outcomes[2] or '0')}
