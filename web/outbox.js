// The page's outbox: every line sent (text, /me, location), from typing
// until the server has it, by the rulebook of protocol/README.md ("How a
// client keeps its outbox") that chat-tui follows too; tests/web/ replays
// protocol/vectors/outbox.json. No DOM, no timers: the caller passes the
// time (monotonic ms) and asks wake() when to call tick().

export const MAX_TRIES = 8;
export const ACK_TIMEOUT_MS = 15_000;
export const BACKOFF_FIRST_MS = 500;
export const BACKOFF_MAX_MS = 30_000;
/** Refusals after which nobody knows whether the server has the line. */
export const UNKNOWN_OUTCOME_CODES = new Set(['unavailable']);
/** The code of a line given up after MAX_TRIES unknown outcomes. */
export const GAVE_UP = 'gave_up';

/**
 * The pause before try `attempt` (1, 2, ...): 500 ms doubling up to 30 s,
 * scaled to 50-100% by `jitter` in [0, 1]. Reconnection attempts use it too.
 */
export function backoff(attempt, jitter = Math.random()) {
  const base = Math.min(BACKOFF_FIRST_MS * 2 ** (Math.max(1, attempt) - 1), BACKOFF_MAX_MS);
  return base * (0.5 + 0.5 * jitter);
}

/** Request ids, unique per device across connections (resends are recognised by them): a random prefix and a counter. */
export function requestIds(random = globalThis.crypto) {
  const prefix = Array.from(random.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');
  let counter = 0;
  return () => `${prefix}-${++counter}`;
}

/**
 * One line: { id, room, frame, status, tries, code, message, seq }, with
 * the caller's own fields (the page keeps what was typed).
 * `status` is what a person sees: 'pending', 'sent' or 'failed' (with `code`
 * and the server's `message`). A pending line is in flight (sent on this
 * connection, its ack due at `due`) or queued (waiting for its room's join,
 * or until `due` after a backoff).
 */
export class Outbox {
  #lines = new Map(); // id -> line, in the order typed
  #online = false;
  #joined = new Set();
  #send;
  #changed;
  #jitter;

  /** send(line): line.frame to the wire. changed(line): new status. jitter(): in [0, 1], for the backoff. */
  constructor({ send, changed = () => {}, jitter = Math.random }) {
    this.#send = send;
    this.#changed = changed;
    this.#jitter = jitter;
  }

  get(id) {
    return this.#lines.get(id);
  }

  /** A line typed ({ id, room, frame }, and the caller's fields): queued; sent at once if its room is joined. */
  submit(entry, now) {
    const line = { ...entry, status: 'pending', inFlight: false, due: null, tries: 0, code: null, message: '', seq: null };
    this.#lines.set(line.id, line);
    this.#changed(line);
    if (this.#ready(line.room)) this.#transmit(line, now);
    return line;
  }

  /** Identified on a new connection; rooms are not joined yet. */
  connected() {
    this.#online = true;
    this.#joined.clear();
  }

  /** The connection is lost, or an attempt failed: one more try for every pending line, sent again after the rejoin. */
  disconnected() {
    this.#online = false;
    this.#joined.clear();
    for (const line of this.#pending()) this.#unknownOutcome(line, null);
  }

  /** The room's join was acknowledged: its queued lines go out, in order. */
  joined(room, now) {
    this.#joined.add(room);
    for (const line of this.#pending()) {
      if (line.room === room && !line.inFlight && (line.due === null || line.due <= now)) this.#transmit(line, now);
    }
  }

  /** The room's join was refused: its pending lines fail with that code. */
  joinFailed(room, code, message = '') {
    this.#joined.delete(room);
    for (const line of this.#pending()) if (line.room === room) this.#fail(line, code, message);
  }

  /** An ok ack. */
  ack(id, seq = null) {
    const line = this.#lines.get(id);
    if (line) this.#settle(line, seq);
  }

  /** A refusing ack: unknown outcome for `unavailable`, failed for any other code. */
  nack(id, code, now, message = '') {
    const line = this.#lines.get(id);
    if (!line || line.status !== 'pending') return;
    if (!UNKNOWN_OUTCOME_CODES.has(code)) this.#fail(line, code, message);
    else if (line.inFlight) this.#unknownOutcome(line, now);
  }

  /** A message or location with this id in this room: our line, settled. Returns it, or undefined if not ours. */
  echo(room, id, seq = null) {
    const line = this.#lines.get(id);
    if (!line || line.room !== room) return undefined;
    this.#settle(line, seq);
    return line;
  }

  /** Explicit retry of a failed line: same id, a fresh count of tries. */
  retry(id, now) {
    const line = this.#lines.get(id);
    if (!line || line.status !== 'failed') return;
    Object.assign(line, { status: 'pending', inFlight: false, due: null, tries: 0, code: null, message: '' });
    this.#changed(line);
    if (this.#ready(line.room)) this.#transmit(line, now);
  }

  /** Explicit retry of every failed line of a room, in order. */
  retryRoom(room, now) {
    for (const line of [...this.#lines.values()]) if (line.room === room) this.retry(line.id, now);
  }

  /** The room was left: its lines are forgotten. */
  leave(room) {
    this.#joined.delete(room);
    for (const line of [...this.#lines.values()]) if (line.room === room) this.#lines.delete(line.id);
  }

  /** Drop one line (the person took it back, or its entry is final). */
  forget(id) {
    this.#lines.delete(id);
  }

  /** Handle what is due: ack timeouts (unknown outcome) and resends after a backoff. */
  tick(now) {
    for (const line of this.#pending()) {
      if (line.due === null || line.due > now) continue;
      if (line.inFlight) this.#unknownOutcome(line, now);
      else if (this.#ready(line.room)) this.#transmit(line, now);
      else line.due = null; // goes out with its room's join
    }
  }

  /** When tick() has something to do next, or null. */
  wake() {
    let next = null;
    for (const line of this.#pending()) if (line.due !== null && (next === null || line.due < next)) next = line.due;
    return next;
  }

  *#pending() {
    for (const line of [...this.#lines.values()]) if (line.status === 'pending') yield line;
  }

  #ready(room) {
    return this.#online && this.#joined.has(room);
  }

  #transmit(line, now) {
    line.inFlight = true;
    line.due = now + ACK_TIMEOUT_MS;
    this.#send(line);
  }

  // One more try counted; queued again, after a backoff when `now` is given
  // (on the same connection), else right after the next rejoin.
  #unknownOutcome(line, now) {
    line.tries += 1;
    line.inFlight = false;
    line.due = null;
    if (line.tries >= MAX_TRIES) this.#fail(line, GAVE_UP, `not confirmed after ${MAX_TRIES} tries`);
    else if (now !== null) line.due = now + backoff(line.tries, this.#jitter());
  }

  #settle(line, seq) {
    if (typeof seq === 'number') line.seq = seq;
    if (line.status === 'sent') return;
    Object.assign(line, { status: 'sent', inFlight: false, due: null, code: null, message: '' });
    this.#changed(line);
  }

  #fail(line, code, message) {
    Object.assign(line, { status: 'failed', inFlight: false, due: null, code, message });
    this.#changed(line);
  }
}
