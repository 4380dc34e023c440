-- Put a batch's undecided checkouts back at the head of the sale's line, in their order, when a service
-- they need is away: each record back to QUEUED (a compare-and-set, as advance.lua), its request listed
-- again, and, where asked, the reservation the batch made undone (units back on the counter, the ticket
-- admitted again until its deadline), so no unit waits held for a service that does not answer.
-- KEYS: checkouts, checkout_line, checkout_requests, tickets, ticket_owner, ticket_expiry, admitted,
--       inflight, reservations, bought, stock, held
-- ARGV: groups of a ticket id, its new record (its `version` one more than the one it replaces), its
--       request, and 1 to undo its reservation (0 to keep it: a charge may be under way)
-- Returns the ticket ids refused: their record moved on since the batch read it (left as they are).
local refused = {}
for i = #ARGV - 3, 1, -4 do -- from the last, each pushed to the head: the first ends up first
  local ticket, record, request, undo = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local current = redis.call('HGET', KEYS[1], ticket)
  local version = -1
  if current then version = cjson.decode(current).version or 0 end
  if cjson.decode(record).version ~= version + 1 then
    refused[#refused + 1] = ticket
  else
    redis.call('HSET', KEYS[1], ticket, record)
    redis.call('HSET', KEYS[3], ticket, request)
    redis.call('LPUSH', KEYS[2], ticket)
    if undo == '1' and redis.call('HGET', KEYS[4], ticket) == 'reserved' then
      local qty = tonumber(redis.call('HGET', KEYS[9], ticket) or '0')
      local owner = redis.call('HGET', KEYS[5], ticket)
      redis.call('INCRBY', KEYS[11], qty)
      redis.call('DECRBY', KEYS[12], qty)
      redis.call('HINCRBY', KEYS[10], owner, -qty)
      redis.call('HDEL', KEYS[9], ticket)
      redis.call('ZREM', KEYS[8], ticket)
      redis.call('HSET', KEYS[4], ticket, 'admitted')
      redis.call('ZADD', KEYS[7], redis.call('HGET', KEYS[6], ticket), ticket)
    end
  end
end
return refused
