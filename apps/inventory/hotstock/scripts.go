package hotstock

import "github.com/redis/go-redis/v9"

// reserveScript takes all hot lines of an order or none.
// KEYS[1] ledger entry, KEYS[2] stream, KEYS[3..] stock counters.
// ARGV[1] fingerprint, ARGV[2] expiry (unix ms), ARGV[3] order id, then per
// counter: sku, qty.
// Answers {"TAKEN"|"REPEAT", epoch...}, {"CONFLICT"}, {"SHORT"|"MISSING", sku...}.
var reserveScript = redis.NewScript(`
local n = #KEYS - 2
local epochs, missing, short = {}, {}, {}
for i = 1, n do
  local v = redis.call('HMGET', KEYS[i+2], 'avail', 'epoch')
  if not v[1] then
    missing[#missing+1] = ARGV[2+2*i]
  elseif tonumber(v[1]) < tonumber(ARGV[3+2*i]) then
    short[#short+1] = ARGV[2+2*i]
  end
  epochs[i] = v[2] or '0'
end
local fp = redis.call('HGET', KEYS[1], 'fp')
if fp then
  if fp ~= ARGV[1] then return {'CONFLICT'} end
  if #missing > 0 then return {'MISSING', unpack(missing)} end
  return {'REPEAT', unpack(epochs)}
end
if #missing > 0 then return {'MISSING', unpack(missing)} end
if #short > 0 then return {'SHORT', unpack(short)} end
local lines, avail = {}, {}
for i = 1, n do
  local sku, qty = ARGV[2+2*i], tonumber(ARGV[3+2*i])
  avail[sku] = redis.call('HINCRBY', KEYS[i+2], 'avail', -qty)
  lines[sku] = qty
  redis.call('HSET', KEYS[1], 'l:' .. sku, qty)
end
redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'exp', ARGV[2])
redis.call('XADD', KEYS[2], '*', 'op', 'take', 'order', ARGV[3], 'exp', ARGV[2],
  'lines', cjson.encode(lines), 'avail', cjson.encode(avail))
return {'TAKEN', unpack(epochs)}
`)

// releaseScript returns what an order's ledger entry holds, once.
// KEYS[1] ledger entry, KEYS[2] stream. ARGV[1] order id, ARGV[2] the
// counter key prefix (counters are found from the ledger, which a
// tombstone or orphan sweep cannot know beforehand; the shared hash tag
// keeps them on the same slot). Answers 1 when units went back, 0 when
// there was nothing to return.
var releaseScript = redis.NewScript(`
local h = redis.call('HGETALL', KEYS[1])
if #h == 0 then return 0 end
local exp = '0'
local lines, avail, any = {}, {}, false
for i = 1, #h, 2 do
  local f = h[i]
  if f == 'exp' then exp = h[i+1] end
  if string.sub(f, 1, 2) == 'l:' then
    local sku = string.sub(f, 3)
    local key = ARGV[2] .. sku
    if redis.call('EXISTS', key) == 1 then
      avail[sku] = redis.call('HINCRBY', key, 'avail', tonumber(h[i+1]))
      lines[sku] = tonumber(h[i+1])
      any = true
    end
  end
end
redis.call('DEL', KEYS[1])
if any then
  redis.call('XADD', KEYS[2], '*', 'op', 'return', 'order', ARGV[1], 'exp', exp,
    'lines', cjson.encode(lines), 'avail', cjson.encode(avail))
end
return 1
`)

// rebuildScript creates a missing counter and the ledger entries of the
// reservations it counts as taken; it does nothing when the counter exists.
// KEYS[1] counter, KEYS[2..] ledger entries. ARGV[1] available, ARGV[2]
// epoch, ARGV[3] sku, then per ledger entry: qty, fingerprint, expiry.
var rebuildScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'avail', ARGV[1], 'epoch', ARGV[2])
for i = 2, #KEYS do
  local b = 4 + (i-2)*3
  redis.call('HSET', KEYS[i], 'l:' .. ARGV[3], ARGV[b])
  redis.call('HSETNX', KEYS[i], 'fp', ARGV[b+1])
  redis.call('HSETNX', KEYS[i], 'exp', ARGV[b+2])
end
return 1
`)

// restockScript raises a counter by received stock, only while it is the
// counter of the epoch MariaDB had when on_hand rose: a counter rebuilt
// since (or missing, to be rebuilt) reads the new on_hand itself.
// KEYS[1] counter. ARGV[1] qty, ARGV[2] epoch. Answers 1 raised, 0 not.
var restockScript = redis.NewScript(`
local e = redis.call('HGET', KEYS[1], 'epoch')
if not e or tonumber(e) ~= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], 'avail', ARGV[1])
return 1
`)

// restoreOnceScript raises a counter by a restore's units once: the
// marker KEYS[2] says it was applied (or skipped: another epoch).
// KEYS[1] counter, KEYS[2] marker. ARGV[1] qty, ARGV[2] epoch, ARGV[3]
// the marker's lifetime (ms). Answers 1 raised, 0 not.
var restoreOnceScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
local e = redis.call('HGET', KEYS[1], 'epoch')
if not e or tonumber(e) ~= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], 'avail', ARGV[1])
return 1
`)
