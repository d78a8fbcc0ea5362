// The wire protocol as the page speaks it: frames, validation, map links,
// mentions. The Rust crate `protocol` is the reference; tests/web/ replays
// its golden frames and vector files against this module. No DOM.

export const PROTOCOL_VERSION = 2;
export const LIMITS = Object.freeze({ max_name_chars: 32, max_room_chars: 32, max_text_chars: 4000, max_request_id_chars: 64 });
export const HISTORY_PAGE = 50;
/** What a server that does not announce max_server_frame_bytes may send (it predates the bound). */
export const LEGACY_SERVER_FRAME_BYTES = 16 * 1024 * 1024;

// --- characters

// Code point classes of protocol::validate, inclusive ranges (the tests
// compare every code point with validation.json's).
const INVISIBLE_OR_CONTROL = [
  [0x0, 0x1f], [0x7f, 0x9f], [0xad, 0xad], [0x34f, 0x34f], [0x61c, 0x61c], [0x115f, 0x1160], [0x17b4, 0x17b5],
  [0x180b, 0x180f], [0x200b, 0x200f], [0x2028, 0x202e], [0x2060, 0x206f], [0x3164, 0x3164], [0xfeff, 0xfeff],
  [0xffa0, 0xffa0], [0xfff0, 0xfffb], [0x1d173, 0x1d17a], [0xe0000, 0xe0fff],
];
const BIDI_CONTROL = [[0x61c, 0x61c], [0x200e, 0x200f], [0x202a, 0x202e], [0x2066, 0x2069]];
// What Rust's trim() removes (Unicode White_Space). Not String.prototype.trim:
// that one also removes U+FEFF and keeps U+0085.
const WHITE_SPACE = [
  [0x9, 0xd], [0x20, 0x20], [0x85, 0x85], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a], [0x2028, 0x2029],
  [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000],
];

const hex = (cp) => `\\u{${cp.toString(16)}}`;
const charClass = (ranges) => ranges.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join('');
const inRanges = (ranges) => (cp) => ranges.some(([a, b]) => cp >= a && cp <= b);

export const isInvisibleOrControl = inRanges(INVISIBLE_OR_CONTROL);
export const isBidiControl = inRanges(BIDI_CONTROL);
export const isWhiteSpace = inRanges(WHITE_SPACE);

const INVISIBLE_RE = new RegExp(`[${charClass(INVISIBLE_OR_CONTROL)}]`, 'u');
const BIDI_RE = new RegExp(`[${charClass(BIDI_CONTROL)}]`, 'gu');
const TRIM_RE = new RegExp(`^[${charClass(WHITE_SPACE)}]+|[${charClass(WHITE_SPACE)}]+$`, 'gu');

/** The string without white space at either end, as Rust's str::trim. */
export const trim = (s) => s.replace(TRIM_RE, '');

/** Length in characters (Unicode scalar values), as every limit counts. */
export function chars(s) {
  let n = 0;
  for (const _ of s) n += 1;
  return n;
}

/** Message text without direction controls, so it cannot reorder what follows it. */
export const stripBidi = (text) => text.replace(BIDI_RE, '');

// --- validation (protocol::validate)
// Each check returns { ok: true, value } or { ok: false, code, why, max, got }:
// `code` is the wire error code, `why` the finer reason (as in validation.json).

const ok = (value = true) => ({ ok: true, value });
const refused = (code, why, extra = {}) => ({ ok: false, code, why, ...extra });

// protocol::names::is_refused: default-ignorable, format, U+2800, unassigned,
// private-use and noncharacter code points (names.json checks them).
const REFUSED_RE = /[\p{DI}\p{Cf}\u2800\p{Cn}\p{Co}\p{NChar}]/u;

/** A display name, trimmed: 1-32 characters, nothing invisible, controlling or refused, not marks alone. */
export function displayName(raw, max = LIMITS.max_name_chars) {
  const name = trim(String(raw));
  if (!name) return refused('invalid_name', 'name_empty');
  const got = chars(name);
  if (got > max) return refused('invalid_name', 'name_too_long', { max, got });
  if (INVISIBLE_RE.test(name) || REFUSED_RE.test(name)) return refused('invalid_name', 'name_forbidden_char');
  if (/^\p{M}+$/u.test(name)) return refused('invalid_name', 'name_only_marks');
  return ok(name);
}

/** A name as kept (protocol::names::normalize): NFC, then displayName. */
export const normalizeName = (raw, max) => displayName(String(raw).normalize('NFC'), max);

/** A room name as the wire wants it: 1-32 of a-z, 0-9, - and _. */
export function roomName(raw, max = LIMITS.max_room_chars) {
  const room = String(raw);
  if (!room) return refused('invalid_room', 'room_empty');
  const got = chars(room);
  if (got > max) return refused('invalid_room', 'room_too_long', { max, got });
  if (!/^[a-z0-9_-]+$/.test(room)) return refused('invalid_room', 'room_forbidden_char');
  return ok(room);
}

/** What a person typed as a room ("#Dev ") as the wire expects it ("dev"). */
export function normalizeRoom(typed) {
  const t = trim(String(typed));
  return (t.startsWith('#') ? t.slice(1) : t).toLowerCase();
}

/** Message text: not only white space, at most 4,000 characters. */
export function messageText(text, max = LIMITS.max_text_chars) {
  const t = String(text);
  if (!trim(t)) return refused('empty_text', 'text_empty');
  const got = chars(t);
  if (got > max) return refused('text_too_long', 'text_too_long', { max, got });
  return ok();
}

// A topic or an away reason: trimmed, at most 200 characters, nothing invisible or controlling.
const line = (code, kind) => (raw, max = 200) => {
  const t = trim(String(raw));
  const got = chars(t);
  if (got > max) return refused(code, `${kind}_too_long`, { max, got });
  return INVISIBLE_RE.test(t) ? refused(code, `${kind}_forbidden_char`) : ok(t);
};
export const topic = line('invalid_topic', 'topic');
export const awayReason = line('invalid_reason', 'reason');

const USER_ID = /^u_[0-9a-f]{16}$/;

/** What a request names: a room, or a DM key "@<id>+<id>" (ids sorted, different). */
export function conversation(raw) {
  const s = String(raw);
  if (!s.startsWith('@')) return roomName(s);
  const [a, b, ...more] = s.slice(1).split('+');
  const good = !more.length && USER_ID.test(a) && USER_ID.test(b ?? '') && a < b;
  return good ? ok(s) : refused('invalid_room', 'room_forbidden_char');
}

/** A position: finite numbers, latitude -90..90, longitude -180..180. */
export function location(latitude, longitude) {
  const within = (v, limit) => Number.isFinite(v) && v >= -limit && v <= limit;
  if (!within(latitude, 90)) return refused('invalid_location', 'latitude_out_of_range');
  if (!within(longitude, 180)) return refused('invalid_location', 'longitude_out_of_range');
  return ok();
}

/** A request id: 1-64 characters, nothing invisible or controlling. */
export function requestId(id, max = LIMITS.max_request_id_chars) {
  const s = String(id);
  if (!s || chars(s) > max || INVISIBLE_RE.test(s)) return refused('invalid_id', 'bad_request_id', { max });
  return ok();
}

// --- map links (protocol::maps)

/**
 * A coordinate with 6 decimals as Rust's `{:.6}`: from the exact binary
 * value, ties to even, "-0.000000" for -0 (toFixed(6) does neither).
 */
export function formatCoord(v) {
  if (!Number.isFinite(v)) return String(v);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const bits = view.getBigUint64(0);
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = exponent === 0 ? fraction : fraction | (1n << 52n);
  const shift = (exponent === 0 ? 1 : exponent) - 1075;
  // |v| * 10^6 = num / den, exactly
  let num = mantissa * 1_000_000n;
  let den = 1n;
  if (shift >= 0) num <<= BigInt(shift);
  else den <<= BigInt(-shift);
  let q = num / den;
  const twice = 2n * (num % den);
  if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  const digits = q.toString().padStart(7, '0');
  return `${bits >> 63n ? '-' : ''}${digits.slice(0, -6)}.${digits.slice(-6)}`;
}

export function openstreetmapUrl(latitude, longitude) {
  const [lat, lon] = [formatCoord(latitude), formatCoord(longitude)];
  return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=16/${lat}/${lon}`;
}

export function googleMapsUrl(latitude, longitude) {
  return `https://www.google.com/maps?q=${formatCoord(latitude)},${formatCoord(longitude)}`;
}

// --- mentions (protocol::mention)

const WORD_RE = /[\p{Alphabetic}\p{N}_-]/u;

/**
 * Where `text` mentions `name`, as [start, end) UTF-16 offsets: the name as a
 * whole word, each character lower-cased on its own, an "@" right before it
 * included.
 */
export function mentionRanges(text, name) {
  const needle = Array.from(String(name), (c) => c.toLowerCase()).join('');
  if (!needle) return [];
  const cs = Array.from(String(text));
  const at = [0];
  for (const c of cs) at.push(at.at(-1) + c.length);
  const isWord = (i) => i >= 0 && i < cs.length && WORD_RE.test(cs[i]);
  const found = [];
  for (let i = 0; i < cs.length; ) {
    const len = isWord(i - 1) ? 0 : matchLength(cs, i, needle);
    if (len && !isWord(i + len)) {
      found.push([cs[i - 1] === '@' ? at[i - 1] : at[i], at[i + len]]);
      i += len;
    } else {
      i += 1;
    }
  }
  return found;
}

// How many characters from cs[i] spell `needle` once lower-cased, or 0.
function matchLength(cs, i, needle) {
  let pos = 0;
  let j = i;
  while (pos < needle.length) {
    const lower = j < cs.length ? cs[j].toLowerCase() : '';
    if (!lower || !needle.startsWith(lower, pos)) return 0;
    pos += lower.length;
    j += 1;
  }
  return j - i;
}

// --- frames

// The fields of each frame type in wire (serde's) order. `opt`: may be
// absent; `def`: the value when absent; `omit`: left out at that value.
const str = { t: 'string' };
const optStr = { t: 'string', opt: true };
const uint = { t: 'uint' };
const int = { t: 'int' };
const num = { t: 'number' };
const bool = { t: 'bool' };
const flag = { t: 'bool', def: false, omit: true };
const fields = (shape) => ({ t: 'object', shape });
const list = (shape) => ({ t: 'list', shape });
const userRef = fields({ id: str, name: str });
const strs = { t: 'strings' };
const optBool = { t: 'bool', opt: true };
const optUint = { t: 'uint', opt: true };
// A room's modes (protocol::moderation::RoomModes); absent from older servers: all off.
const modeFields = {
  moderated: { t: 'bool', def: false },
  invite_only: { t: 'bool', def: false },
  topic_lock: { t: 'bool', def: false },
  slow_s: { t: 'uint', def: 0 },
  filter: { t: 'string', def: 'server' },
};
const modes = fields(modeFields);
export const DEFAULT_MODES = Object.freeze({ moderated: false, invite_only: false, topic_lock: false, slow_s: 0, filter: 'server' });

export const CLIENT_FRAMES = {
  hello: { protocol: uint, name: optStr, credential: optStr, link_code: optStr, device: optStr, client: optStr },
  join: { id: str, room: str, since: { t: 'uint', opt: true }, epoch: optStr },
  history: { id: str, room: str, before: uint, limit: { t: 'uint', def: HISTORY_PAGE } },
  leave: { id: str, room: str },
  send: { id: str, room: str, text: str, action: flag },
  location: { id: str, room: str, latitude: num, longitude: num },
  ping: { id: str },
  link: { id: str },
  devices: { id: str },
  logout: { id: str, device: optStr },
  query: { id: str, name: str },
  nick: { id: str, name: str },
  away: { id: str, reason: optStr },
  back: { id: str },
  whois: { id: str, name: str },
  list: { id: str },
  topic: { id: str, room: str, text: str },
  moderate: { id: str, room: str, action: str, target: optStr, duration_s: optUint, reason: optStr },
  mode: { id: str, room: str, moderated: optBool, invite_only: optBool, topic_lock: optBool, slow_s: optUint, filter: optStr },
  modlog: { id: str, room: str },
};

export const SERVER_FRAMES = {
  welcome: {
    protocol: uint,
    server: str,
    name: str,
    user: userRef,
    device: userRef,
    credential: optStr,
    heartbeat_ms: uint,
    limits: fields({
      max_name_chars: uint, max_room_chars: uint, max_text_chars: uint, max_frame_bytes: uint,
      max_rooms: uint, rate_per_sec: num, rate_burst: uint,
      max_server_frame_bytes: { t: 'uint', def: LEGACY_SERVER_FRAME_BYTES },
    }),
    epoch: str,
    dms: { ...list({ room: str, peer: userRef, last_seq: uint }), def: [] },
  },
  room_state: {
    room: str,
    users: list({ id: str, name: str, away: optStr, role: optStr }),
    topic: optStr,
    modes: { ...modes, def: DEFAULT_MODES },
  },
  user_joined: { room: str, name: str, user: str, role: optStr, ts: int },
  user_left: { room: str, name: str, user: str, ts: int },
  // `user` is empty only in messages stored before identities existed
  message: { room: str, seq: uint, ts: int, from: str, user: { t: 'string', def: '' }, id: str, text: str, action: flag },
  location: { room: str, seq: uint, ts: int, from: str, user: { t: 'string', def: '' }, id: str, latitude: num, longitude: num },
  history: { room: str, events: { t: 'frames' }, more: bool, missed: { t: 'uint', def: 0, omit: true }, continues: flag },
  topic: { room: str, seq: uint, ts: int, from: str, user: str, id: optStr, text: str },
  renamed: { user: str, old: str, name: str, ts: int },
  away: { user: str, reason: optStr },
  back: { user: str },
  away_notice: { room: str, user: str, name: str, reason: optStr },
  whois: { user: userRef, online: bool, devices: uint, away: { t: 'string', opt: true, nul: true }, rooms: strs, since_ts: int },
  room_list: { rooms: list({ room: str, members: uint, topic: optStr }) },
  moderation: {
    room: str, seq: uint, ts: int, action: str,
    actor: { ...userRef, nul: true },
    target: { ...userRef, opt: true },
    reason: optStr,
    duration_s: optUint,
    modes: { ...modes, opt: true },
  },
  removed: { room: str, action: str, by: { ...userRef, nul: true }, reason: optStr },
  mod_log: { room: str, entries: { t: 'frames' } },
  link_code: { code: str, expires_ts: int },
  devices: { devices: list({ id: str, name: str, created_ts: int, last_seen_ts: int, current: bool }) },
  ack: { id: str, ok: bool, seq: { t: 'uint', opt: true }, error: { ...fields({ code: str, message: str }), opt: true } },
  error: { code: str, message: str },
};

const KINDS = {
  string: (v) => typeof v === 'string',
  uint: (v) => Number.isSafeInteger(v) && v >= 0,
  int: (v) => Number.isSafeInteger(v),
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  bool: (v) => typeof v === 'boolean',
  strings: (v) => Array.isArray(v) && v.every((e) => typeof e === 'string'),
};

const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

// The fields of `raw` that `shape` knows, checked, defaults filled in; null
// if one is missing or wrong. Unknown fields are ignored, as the protocol says.
function read(raw, shape, frames) {
  const out = {};
  for (const [key, kind] of Object.entries(shape)) {
    const v = raw[key];
    if (v === undefined || v === null) {
      if (v === null && kind.nul) out[key] = null;
      else if ('def' in kind) out[key] = kind.def;
      else if (!kind.opt) return null;
      continue;
    }
    let value = v;
    if (kind.t === 'object') value = isObject(v) ? read(v, kind.shape, frames) : null;
    else if (kind.t === 'list') value = Array.isArray(v) ? v.map((e) => (isObject(e) ? read(e, kind.shape, frames) : null)) : null;
    else if (kind.t === 'frames') value = Array.isArray(v) ? knownFrames(v, frames) : null;
    else if (!KINDS[kind.t](v)) value = null;
    if (value === null || (Array.isArray(value) && value.includes(null))) return null;
    out[key] = value;
  }
  return out;
}

// A frame of a type a newer server may send and this page does not know: skipped.
const newerType = (raw, frames) => isObject(raw) && typeof raw.type === 'string' && !Object.hasOwn(frames, raw.type);

function knownFrames(list, frames) {
  return list.filter((e) => !newerType(e, frames)).map((e) => frame(e, frames));
}

function frame(raw, frames) {
  if (!isObject(raw) || typeof raw.type !== 'string' || !Object.hasOwn(frames, raw.type)) return null;
  const body = read(raw, frames[raw.type], frames);
  return body && { type: raw.type, ...body };
}

function decode(text, frames) {
  try {
    return frame(JSON.parse(text), frames);
  } catch {
    return null;
  }
}

/** A server frame as an event, or null if it is not one this page knows (newer servers may send more). */
export const decodeServer = (text) => decode(text, SERVER_FRAMES);

/** A client frame as an event, or null. */
export const decodeClient = (text) => decode(text, CLIENT_FRAMES);

/** The JSON text of a client event, fields in wire order, as the Rust encoder writes it. */
export function encodeClient(event) {
  const shape = CLIENT_FRAMES[event.type];
  if (!shape) throw new TypeError(`not a client frame: ${event.type}`);
  const out = { type: event.type };
  for (const [key, kind] of Object.entries(shape)) {
    const v = event[key] ?? kind.def;
    if (v === undefined || v === null || (kind.omit && v === kind.def)) continue;
    out[key] = v;
  }
  return JSON.stringify(out);
}

// --- frame bounds and history parts

const utf8 = new TextEncoder();

/** The frame's size in bytes if it is over `limit`, else 0 (measured only when it could be). */
export function overLimit(text, limit) {
  // One UTF-16 code unit is at most three bytes of UTF-8.
  if (text.length * 3 <= limit) return 0;
  const bytes = utf8.encode(text).length;
  return bytes > limit ? bytes : 0;
}

/** A history answer in parts (all but the last have `continues`), put back together per room. */
export class HistoryParts {
  #open = new Map(); // room -> events of the parts so far

  /** A history frame in; the whole answer when this was its last part, else null. */
  add(ev) {
    const events = this.#open.get(ev.room) || [];
    this.#open.delete(ev.room);
    for (const e of ev.events) events.push(e);
    if (ev.continues) {
      this.#open.set(ev.room, events);
      return null;
    }
    return { ...ev, events };
  }

  /** The connection is gone: parts of unfinished answers mean nothing. */
  clear() {
    this.#open.clear();
  }
}
