-- Compare-and-set for Redis.Update: write KEYS[1] only if it still holds the
-- value the caller read (or is still absent).
--
-- ARGV[1]  "1" if the caller read a value, "0" if it found the key absent
-- ARGV[2]  the value the caller read ("" when absent)
-- ARGV[3]  "1" to set, "0" to delete
-- ARGV[4]  the new value ("" when deleting)
-- ARGV[5]  the time to live in milliseconds
--
-- Returns 1 when written. When the key changed since the caller read it,
-- writes nothing and returns what it holds now, so that the caller can retry
-- without another GET: {value}, or {} when it is absent.
local cur = redis.call('GET', KEYS[1])
local same
if ARGV[1] == '1' then
  same = (cur == ARGV[2])
else
  same = (cur == false)
end
if not same then
  if cur then
    return {cur}
  end
  return {}
end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
else
  redis.call('DEL', KEYS[1])
end
return 1
