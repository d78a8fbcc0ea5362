// Moderation's shared rules as the page follows them (protocol::moderation;
// tests/web/ replays protocol/vectors/moderation.json against each): role
// ranks and prefixes, who may act on whom, durations, /mode letters,
// /filter words, the sentence for each `moderation` event, and the request
// each moderation command sends. No DOM.

const RANKS = { voice: 1, op: 2, owner: 3, admin: 4 };
const SEP = /[ \t\n\r]/;
const trimSep = (s) => s.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');

/** The largest duration of a ban or mute (366 days), and of /slow (protocol::limits). */
export const MAX_DURATION_S = 366 * 86_400;
export const MAX_SLOW_S = 3600;

/** The `moderate` actions (every moderation command that names a person). */
export const ACTIONS = ['op', 'deop', 'voice', 'devoice', 'kick', 'ban', 'unban', 'mute', 'unmute', 'invite'];

/** A role's rank: none 0, voice 1, op 2, owner 3, admin 4. */
export const rank = (role) => RANKS[role] ?? 0;

/** Whether the role is an operator (op, owner, admin). */
export const isOperator = (role) => rank(role) >= RANKS.op;

/** What the user list shows before a name: `@` for operators, `+` for voice. */
export const prefix = (role) => (isOperator(role) ? '@' : role === 'voice' ? '+' : '');

/** Whether someone of role `actor` may do `action` to someone of role `target`. */
export function mayActOn(actor, action, target) {
  if (!ACTIONS.includes(action)) return false;
  const needed = action === 'op' || action === 'deop' ? RANKS.owner : RANKS.op;
  // inviting or unbanning someone is not an act against them
  const above = action === 'invite' || action === 'unban' || rank(actor) > rank(target);
  return rank(actor) >= needed && above;
}

/** The actions a person's menu offers someone of role `mine` on someone of role `role`: those allowed that change something. */
export function menuActions(mine, role) {
  const pointless = { op: isOperator(role), deop: role !== 'op', voice: rank(role) >= RANKS.voice, devoice: role !== 'voice' };
  const order = ['kick', 'ban', 'mute', 'unmute', 'op', 'deop', 'voice', 'devoice', 'invite'];
  return order.filter((action) => !pointless[action] && mayActOn(mine, action, role));
}

/** A person's role after a `moderation` event of `action` about them (as the server records it: one role each). */
export function roleAfter(action, role) {
  if (action === 'op' || action === 'voice') return action;
  return action === 'deop' || action === 'devoice' ? undefined : role;
}

/** `30s`, `10m`, `2h`, `1d`, `1w` or a bare number of minutes, in seconds; null if none of those, zero or too long. */
export function parseDuration(text) {
  const m = /^([0-9]*)(.*)$/s.exec(text.replace(/[A-Z]/g, (c) => c.toLowerCase()));
  const [digits, unit] = [m[1], m[2] || 'm'];
  if (!digits || digits.length > 12) return null;
  const unitS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[unit];
  if (!unitS) return null;
  const seconds = Number(digits) * unitS;
  return seconds > 0 && seconds <= MAX_DURATION_S ? seconds : null;
}

/** A duration in the largest unit that divides it: `30 s`, `90 s`, `5 min`, `1 h`, `2 d`. */
export function formatDuration(s) {
  if (s >= 86_400 && s % 86_400 === 0) return `${s / 86_400} d`;
  if (s >= 3600 && s % 3600 === 0) return `${s / 3600} h`;
  if (s >= 60 && s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

/** What follows the name in /ban and /mute: { duration_s, reason } (each null when absent). */
export function splitDuration(rest) {
  const text = trimSep(rest);
  const m = SEP.exec(text);
  const [first, after] = m ? [text.slice(0, m.index), text.slice(m.index)] : [text, ''];
  const reason = (t) => trimSep(t) || null;
  const seconds = parseDuration(first);
  return seconds === null ? { duration_s: null, reason: reason(text) } : { duration_s: seconds, reason: reason(after) };
}

/** /mode's letters: { moderated, invite_only, topic_lock } each true, false or null (untouched); null if refused. */
export function parseModeFlags(text) {
  const change = { moderated: null, invite_only: null, topic_lock: null };
  const letters = { m: 'moderated', i: 'invite_only', t: 'topic_lock' };
  let set = true;
  let any = false;
  for (const c of text) {
    if (c === '+' || c === '-') {
      set = c === '+';
      continue;
    }
    const field = letters[c.replace(/[MIT]/, (x) => x.toLowerCase())];
    if (!field) return null;
    change[field] = set;
    any = true;
  }
  return any ? change : null;
}

/** /filter's word: 'off', 'profanity' or 'server' (ASCII case ignored), or null. */
export function parseFilter(text) {
  const t = text.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return ['server', 'off', 'profanity'].includes(t) ? t : null;
}

/** The modes in words: "moderated, invite-only, topic locked, slow mode 10 s, filter off", or "no modes". */
export function modesText(modes) {
  const parts = [];
  if (modes.moderated) parts.push('moderated');
  if (modes.invite_only) parts.push('invite-only');
  if (modes.topic_lock) parts.push('topic locked');
  if (modes.slow_s > 0) parts.push(`slow mode ${formatDuration(modes.slow_s)}`);
  if (modes.filter && modes.filter !== 'server') parts.push(`filter ${modes.filter}`);
  return parts.length ? parts.join(', ') : 'no modes';
}

const SENTENCES = {
  op: (a, t) => `${a} made ${t} an operator`,
  deop: (a, t) => `${a} took operator from ${t}`,
  voice: (a, t) => `${a} gave voice to ${t}`,
  devoice: (a, t) => `${a} took voice from ${t}`,
  kick: (a, t) => `${t} was kicked by ${a}`,
  ban: (a, t, time) => `${a} banned ${t}${time}`,
  unban: (a, t) => `${a} lifted the ban on ${t}`,
  mute: (a, t, time) => `${a} muted ${t}${time}`,
  unmute: (a, t) => `${a} unmuted ${t}`,
  invite: (a, t) => `${a} invited ${t}`,
  auto_mute: (a, t, time) => `${t} was muted${time} by ${a}`,
};

/** The sentence for a `moderation` event ("bob was kicked by ann: spam"), or null for any other. */
export function describe(ev) {
  if (!ev || ev.type !== 'moderation') return null;
  const actor = ev.actor ? ev.actor.name : 'the server';
  const target = ev.target ? ev.target.name : 'someone';
  const time = typeof ev.duration_s === 'number' ? ` for ${formatDuration(ev.duration_s)}` : '';
  let text;
  if (ev.action === 'mode') text = `${actor} set the room's modes: ${modesText(ev.modes || {})}`;
  else if (SENTENCES[ev.action]) text = SENTENCES[ev.action](actor, target, time);
  else return null;
  return ev.reason ? `${text}: ${ev.reason}` : text;
}

/**
 * A moderation command ({ command, args } from commandline.js) in `room`
 * as its request without the id: { frame } or { error } (why it was not
 * sent, in words); null for a command that is not a moderation one.
 */
export function request(name, args, room) {
  const [a, b = ''] = args;
  if (ACTIONS.includes(name)) {
    const frame = { type: 'moderate', room, action: name, target: a };
    if (name === 'ban' || name === 'mute') {
      const { duration_s: d, reason } = splitDuration(b);
      if (d !== null) frame.duration_s = d;
      if (reason) frame.reason = reason;
    } else if (name === 'kick' && trimSep(b)) frame.reason = trimSep(b);
    return { frame };
  }
  if (name === 'mode') {
    const change = parseModeFlags(a);
    if (!change) return { error: '/mode takes + or - and the letters m (moderated), i (invite-only), t (topic locked), like /mode +mt.' };
    const frame = { type: 'mode', room };
    for (const [k, v] of Object.entries(change)) if (v !== null) frame[k] = v;
    return { frame };
  }
  if (name === 'slow') {
    const n = /^[0-9]{1,9}$/.test(a) ? Number(a) : NaN;
    if (!(n <= MAX_SLOW_S)) return { error: `/slow takes a number of seconds from 0 (off) to ${MAX_SLOW_S}.` };
    return { frame: { type: 'mode', room, slow_s: n } };
  }
  if (name === 'filter') {
    const filter = parseFilter(a);
    return filter ? { frame: { type: 'mode', room, filter } } : { error: '/filter takes off, profanity or server.' };
  }
  if (name === 'modlog') return { frame: { type: 'modlog', room } };
  return null;
}
