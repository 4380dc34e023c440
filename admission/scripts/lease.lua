-- Renew a lease only for its holder (compare-and-renew), or give it up (ttl 0).
-- KEYS: lease
-- ARGV: holder id, ttl in ms (0 = release)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) == 0 then
  redis.call('DEL', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
