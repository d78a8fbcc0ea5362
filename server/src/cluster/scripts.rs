//! The Lua scripts that make each cluster operation atomic in Redis: one
//! round trip, and no other client sees a half-done step.

/// Appends a batch of messages, in order, in one round trip: for each,
/// de-duplicates, numbers, stores, publishes. `KEYS[1..3]` are the room's
/// counter, stream and topic; `KEYS[3 + i]` the resend key of message `i`.
/// `ARGV[1..3]` are the stream's length, the resend keys' expiry and the
/// channel; then three per message: the frame (with `"seq":0,`), `1` if it
/// is a topic event, and the topic's text. A topic event also becomes the
/// room's current topic in the same step, so the kept topic is always the
/// one with the highest number. A resend later in the same batch finds the
/// key set by its first copy. The new messages go out in one publish:
/// `M{seq}\n{frame}` for one, `B\n{seq}\n{frame}\n{seq}\n{frame}...` for
/// several (a frame is compact JSON, which has no raw newline). Returns
/// `{is_new, seq}` per message, flat.
pub(super) const APPEND: &str = r#"
local out = {}
local published = {}
for i = 1, #KEYS - 3 do
  local a = 3 + (i - 1) * 3
  local old = redis.call('GET', KEYS[3 + i])
  if old then
    out[#out + 1] = 0
    out[#out + 1] = tonumber(old)
  else
    local seq = redis.call('INCR', KEYS[1])
    local frame = string.gsub(ARGV[a + 1], '"seq":0,', '"seq":' .. seq .. ',', 1)
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], seq .. '-0', 'f', frame)
    redis.call('SET', KEYS[3 + i], seq, 'EX', ARGV[2])
    if ARGV[a + 2] == '1' then redis.call('SET', KEYS[3], ARGV[a + 3]) end
    published[#published + 1] = seq .. '\n' .. frame
    out[#out + 1] = 1
    out[#out + 1] = seq
  end
end
if #published == 1 then
  redis.call('PUBLISH', ARGV[3], 'M' .. published[1])
elseif #published > 1 then
  redis.call('PUBLISH', ARGV[3], 'B\n' .. table.concat(published, '\n'))
end
return out
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
