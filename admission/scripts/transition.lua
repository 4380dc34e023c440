-- Move a sale from one state to another (pause, resume), only from the state the caller expects.
-- KEYS: settings, bucket
-- ARGV: from, to, now
-- REPLY: outcome, state
local state = redis.call('HGET', KEYS[1], 'state')
if state == ARGV[2] then return {'already', state} end
if state ~= ARGV[1] then return {'refused', state or ''} end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
-- Admission starts from an empty bucket after a pause: no burst of everyone the pause held back.
redis.call('HSET', KEYS[2], 'tokens', '0', 'at', ARGV[3])
return {'moved', ARGV[2]}
