-- Load an armed sale's settings and its stock counter, once (a repeat changes nothing).
-- KEYS: settings, stock, held, sold
-- ARGV: units, then field/value pairs of the settings
-- REPLY: outcome, state
if redis.call('HEXISTS', KEYS[1], 'state') == 1 then return {'already', redis.call('HGET', KEYS[1], 'state')} end
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('HSET', KEYS[1], 'state', 'armed', 'units', ARGV[1])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], 0)
redis.call('SET', KEYS[4], 0)
return {'armed', 'armed'}
