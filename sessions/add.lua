-- Counter for Redis.Add: add ARGV[1] to KEYS[1] (absent: 0) and, when the
-- key has no expiry yet (it was just made), give it ARGV[2] milliseconds.
-- Returns the new value.
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return v
