-- Open an armed sale: place the pre-queue into the queue ONCE, in the order of the published draw, ahead of
-- everyone who joins later. Python computed that order (admission/draw.py) from a snapshot of the
-- pre-queue; a shopper who joined since is not in it, so the script refuses ('stale') and Python draws
-- again with them. Whoever left since (evicted) is skipped: dropping entries keeps the others' order.
-- KEYS: settings, prequeue, queue, sequence, shuffled, bucket, draw, draw_places
-- ARGV: now, then shopper, entry hash pairs in draw order
-- Returns {outcome, detail}: opened (detail = entries placed) | already | stale (detail = shoppers not
-- in the snapshot) | refused (detail = the sale's state).
-- REPLY: outcome, detail
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'open' then return {'already', 0} end
if state ~= 'armed' then return {'refused', state or ''} end
local placed = 0
if redis.call('EXISTS', KEYS[5]) == 0 then
  local drawn = {}
  for i = 2, #ARGV, 2 do drawn[ARGV[i]] = true end
  local missing = 0
  for _, member in ipairs(redis.call('SMEMBERS', KEYS[2])) do
    if not drawn[member] then missing = missing + 1 end
  end
  if missing > 0 then return {'stale', missing} end
  redis.call('SET', KEYS[5], ARGV[1])
  -- Nobody is in the queue yet (joins went to the pre-queue), so places 1..n come first.
  for i = 2, #ARGV, 2 do
    if redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 1 then
      placed = placed + 1
      redis.call('ZADD', KEYS[3], placed, ARGV[i])
      redis.call('HSET', KEYS[8], ARGV[i], placed)
      redis.call('RPUSH', KEYS[7], ARGV[i + 1])
    end
  end
  redis.call('INCRBY', KEYS[4], placed)
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'drawn', placed)
end
redis.call('HSET', KEYS[1], 'state', 'open', 'opened_at', ARGV[1])
redis.call('HSET', KEYS[6], 'tokens', '0', 'at', ARGV[1])
return {'opened', placed}
