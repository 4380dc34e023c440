-- Take up to `count` waiting checkout requests, oldest first, for one drain batch.
-- KEYS: checkout_line, checkout_requests
-- ARGV: count
-- Returns the requests' json. A ticket listed twice (submitted again after a hand-back) is taken once,
-- with its latest request. Once taken, a request is the worker's: a worker that dies with it leaves the
-- checkout's record (processing or queued) for the reconciler, which settles it from the ticket's state.
local taken = {}
local count = tonumber(ARGV[1])
while #taken < count do
  local ticket = redis.call('LPOP', KEYS[1])
  if not ticket then break end
  local request = redis.call('HGET', KEYS[2], ticket)
  if request then
    redis.call('HDEL', KEYS[2], ticket)
    taken[#taken + 1] = request
  end
end
return taken
