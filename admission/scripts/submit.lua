-- Put one checkout in the sale's line, only if its record is still the one the submit read (or still
-- absent): of several submits of one ticket at once, exactly one goes in; the others are refused.
-- KEYS: checkouts, checkout_requests, checkout_line
-- ARGV: ticket id, the record the submit read ('' for none), the new record, the request
-- Returns queued | changed (another submit, or a worker, wrote the record first)
local current = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if current ~= ARGV[2] then return 'changed' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
redis.call('RPUSH', KEYS[3], ARGV[1])
return 'queued'
