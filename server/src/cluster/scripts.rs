//! The Lua scripts that make each cluster operation atomic in Redis: one
//! round trip, and no other client sees a half-done step.

/// Appends a message: de-duplicates, numbers, stores, publishes. Returns
/// `{is_new, seq}`.
pub(super) const APPEND: &str = r#"
local old = redis.call('GET', KEYS[3])
if old then return {0, tonumber(old)} end
local seq = redis.call('INCR', KEYS[1])
local frame = string.gsub(ARGV[1], '"seq":0,', '"seq":' .. seq .. ',', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'f', frame)
redis.call('SET', KEYS[3], seq, 'EX', ARGV[3])
redis.call('PUBLISH', ARGV[4], 'M' .. seq .. '\n' .. frame)
return {1, seq}
"#;

/// Claims a name in a room unless a live instance (other than ours) holds it.
pub(super) const CLAIM: &str = r#"
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local owner = string.match(cur, '^([^\t]*)')
  if owner ~= ARGV[3] and redis.call('EXISTS', ARGV[4] .. owner) == 1 then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"#;

/// Deletes a member entry only if it is still the one we saw.
pub(super) const RELEASE: &str = r#"
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"#;

/// Raises a room's counter to at least ARGV[1]; returns what it was.
pub(super) const RAISE: &str = r#"
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return cur
"#;
