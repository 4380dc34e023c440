-- Open an armed sale: shuffle the pre-queue into the queue ONCE, ahead of everyone who joins later.
-- KEYS: settings, prequeue, queue, sequence, shuffled, bucket
-- ARGV: random seed (from Python: Lua's generator is only reproducible when seeded), now
-- Returns {outcome, shuffled count}: outcome is opened | already | refused (then the sale's state).
-- REPLY: outcome, detail
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'open' then return {'already', 0} end
if state ~= 'armed' then return {'refused', state or ''} end
local moved = 0
if redis.call('SET', KEYS[5], ARGV[2], 'NX') then
  local members = redis.call('SMEMBERS', KEYS[2])
  -- SMEMBERS order depends on the set's encoding; sorting first makes the seed the only chance.
  table.sort(members)
  math.randomseed(tonumber(ARGV[1]))
  for i = #members, 2, -1 do
    local j = math.random(i)
    members[i], members[j] = members[j], members[i]
  end
  -- Nobody is in the queue yet (joins went to the pre-queue), so places 1..n come first.
  for i, member in ipairs(members) do
    redis.call('ZADD', KEYS[3], i, member)
  end
  redis.call('INCRBY', KEYS[4], #members)
  redis.call('DEL', KEYS[2])
  moved = #members
end
redis.call('HSET', KEYS[1], 'state', 'open', 'opened_at', ARGV[2])
redis.call('HSET', KEYS[6], 'tokens', '0', 'at', ARGV[2])
return {'opened', moved}
