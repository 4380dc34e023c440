-- Move a sale's clock on to `now`. It runs with wall time while the front door answers, and stands still
-- for the time the front door was away (stopped, restarting, cut off from Redis), so that a waiter loses
-- their place only for time in which they could have polled. The front door's clock is a key of no sale:
-- the admitter reads it and hands its reading in. Without one (no front door ever beat: the tests, a bare
-- setup) the sale's clock is wall time.
-- KEYS: settings
-- ARGV: now (epoch s), the front door's clock now ('' if it never beat)
-- Returns the sale's clock now: now less its downtime (a string: Redis would truncate a fraction).
local now, up = tonumber(ARGV[1]), tonumber(ARGV[2])
local state, downtime, at, was_up =
  unpack(redis.call('HMGET', KEYS[1], 'state', 'downtime', 'clock_at', 'clock_up'))
downtime, at, was_up = tonumber(downtime) or 0, tonumber(at), tonumber(was_up)
if not state then return string.format('%.17g', now) end -- no such sale: write nothing
if at and now <= at then
  return string.format('%.17g', now - downtime) -- a tick from behind: nothing passed since the last one
end
if at and up and was_up and up >= was_up then
  -- Wall time passed less the front door's clock passed: how long it was away since the last tick.
  downtime = downtime + math.max((now - at) - (up - was_up), 0)
end
redis.call('HSET', KEYS[1], 'downtime', string.format('%.17g', downtime), 'clock_at', ARGV[1],
           'clock_up', ARGV[2])
return string.format('%.17g', now - downtime)
