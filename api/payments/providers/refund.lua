-- Refund one sandbox charge, once: KEYS[1] = the charge record; ARGV[1] = the amount to refund.
-- Answers the updated record (JSON), or an error reply the sandbox turns into a ProviderError.
local raw = redis.call('GET', KEYS[1])
if not raw then
  return redis.error_reply('no_such_charge')
end
local charge = cjson.decode(raw)
if charge.status == 'refunded' then
  return raw
end
if charge.status ~= 'captured' then
  return redis.error_reply('charge_not_captured')
end
if tonumber(ARGV[1]) > tonumber(charge.amount) then
  return redis.error_reply('amount_too_large')
end
charge.status = 'refunded'
charge.refunded = tonumber(ARGV[1])
local updated = cjson.encode(charge)
redis.call('SET', KEYS[1], updated, 'KEEPTTL')
return updated
