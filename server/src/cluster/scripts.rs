//! The Lua scripts that make each cluster operation atomic in Redis: one
//! round trip, and no other client sees a half-done step.

/// Appends a message: de-duplicates, numbers, stores, publishes. A topic
/// event (`ARGV[5]` = `1`) also becomes the room's current topic
/// (`KEYS[4]` = `ARGV[6]`, empty when cleared) in the same step, so the
/// kept topic is always the one with the highest number. Returns
/// `{is_new, seq}`.
pub(super) const APPEND: &str = r#"
local old = redis.call('GET', KEYS[3])
if old then return {0, tonumber(old)} end
local seq = redis.call('INCR', KEYS[1])
local frame = string.gsub(ARGV[1], '"seq":0,', '"seq":' .. seq .. ',', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'f', frame)
redis.call('SET', KEYS[3], seq, 'EX', ARGV[3])
if ARGV[5] == '1' then redis.call('SET', KEYS[4], ARGV[6]) end
redis.call('PUBLISH', ARGV[4], 'M' .. seq .. '\n' .. frame)
return {1, seq}
"#;

/// Registers a connection in a room's member hash (field `ARGV[1]` =
/// `user \t instance \t connection`). Returns 1 if no other connection of
/// that identity (fields starting with `ARGV[3]`) on a live instance is
/// registered: the identity is new in the room.
pub(super) const CLAIM: &str = r#"
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if f ~= ARGV[1] and string.sub(f, 1, #ARGV[3]) == ARGV[3] then
    local owner = string.match(f, '^[^\t]*\t([^\t]*)')
    if owner and redis.call('EXISTS', ARGV[4] .. owner) == 1 then return 0 end
  end
end
return 1
"#;

/// Deletes a member entry only if it is still the one we saw. Returns 0 if
/// it was not, 1 if it was and no other connection of the identity on a
/// live instance is left (the identity left the room), 2 if one is.
pub(super) const RELEASE: &str = r#"
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(f, 1, #ARGV[3]) == ARGV[3] then
    local owner = string.match(f, '^[^\t]*\t([^\t]*)')
    if owner and redis.call('EXISTS', ARGV[4] .. owner) == 1 then return 2 end
  end
end
return 1
"#;

/// Raises a room's counter to at least ARGV[1]; returns what it was.
pub(super) const RAISE: &str = r#"
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return cur
"#;
