-- Write checkouts' records, each only over the version its writer read (compare-and-set): a record
-- only moves forward, so a late writer (a worker paused past its lease, a reconciler beside a submit)
-- never overwrites a later or final outcome. A record stored without a version is at version 0.
-- KEYS: checkouts
-- ARGV: pairs of a ticket id and its new record (its `version` one more than the one it replaces)
-- Returns the ticket ids refused: their record moved on since its writer read it.
local refused = {}
for i = 1, #ARGV, 2 do
  local current = redis.call('HGET', KEYS[1], ARGV[i])
  local version = -1
  if current then version = cjson.decode(current).version or 0 end
  if cjson.decode(ARGV[i + 1]).version == version + 1 then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  else
    refused[#refused + 1] = ARGV[i]
  end
end
return refused
