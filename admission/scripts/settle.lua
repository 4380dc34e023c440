-- Take a closed sale's leftover units off the counter, once, so they can go back to the catalog.
-- Waits while reservations are in flight: their units may still come back.
-- KEYS: settings, stock, held, returns
-- Returns {code, units}: planned (now or before) | in_flight (units held) | not_closed
-- REPLY: code, units
if redis.call('HGET', KEYS[1], 'state') ~= 'closed' then return {'not_closed', 0} end
local planned = redis.call('HGET', KEYS[4], 'units')
if planned then return {'planned', tonumber(planned)} end
local held = tonumber(redis.call('GET', KEYS[3]) or '0')
if held > 0 then return {'in_flight', held} end
local left = tonumber(redis.call('GET', KEYS[2]) or '0')
redis.call('SET', KEYS[2], 0)
redis.call('HSET', KEYS[4], 'units', left)
return {'planned', left}
