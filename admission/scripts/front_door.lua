-- The front door's clock, which every sale's waiters are judged by (clock.lua): beaten by the web
-- processes, which answer the waiting room's polls, and read by the admitter. It runs with wall time
-- while beats come, and stands still in a gap between them past `stale` seconds (a beat may come that
-- late without stopping it). Reading and beating share the rule, so a reading taken in a gap is what the
-- next beat will make of it.
-- KEYS: front_door_clock
-- ARGV: now (epoch s), stale (s), beat (1: a front door answers now; 0: read only)
-- Returns the clock's reading now, or '' if no front door ever beat (a string: Redis would truncate a
-- fraction).
local now, stale = tonumber(ARGV[1]), tonumber(ARGV[2])
local up, at = unpack(redis.call('HMGET', KEYS[1], 'up', 'at'))
up, at = tonumber(up), tonumber(at)
if not up or not at then
  if ARGV[3] ~= '1' then return '' end
  up, at = now, now -- the first beat ever: the clock starts at wall time
end
-- A beat from behind (another host's clock, a little late) moves nothing: the clock never goes back.
local reading = up + math.min(math.max(now - at, 0), stale)
if ARGV[3] == '1' and now >= at then
  redis.call('HSET', KEYS[1], 'up', string.format('%.17g', reading), 'at', ARGV[1])
end
return string.format('%.17g', reading)
