// The page's one WebSocket: it says hello, hands server frames on, answers
// the page's own requests with their acks, and after a loss comes back when
// asked, after backoff(n) (the outbox rulebook's) or when the browser is
// online again. A history in parts is handed on whole. A frame over the
// announced size ends the connection (on.tooLarge, on.down), and so does a
// silent link (liveness.js: on.stale, on.down).

import { HistoryParts, LEGACY_SERVER_FRAME_BYTES, PROTOCOL_VERSION, decodeServer, encodeClient, overLimit } from './protocol.js';
import { Liveness } from './liveness.js';
import { ACK_TIMEOUT_MS, backoff } from './outbox.js';

const CONNECT_TIMEOUT_MS = 10_000;
const CLIENT = 'chat-web/0.2.0';

const DEVICE = `browser on ${globalThis.navigator?.platform || 'an unknown system'}`;

/** The ack a request gets when it cannot get the server's. */
const noAck = (id, code, message) => ({ type: 'ack', id, ok: false, error: { code, message } });

export class Connection {
  #url;
  #newId;
  #on;
  #who = () => ({});
  #ws = null;
  #live = null;
  #liveTimer = null;
  #identified = false;
  #attempt = 0;
  #retryTimer = null;
  #requests = new Map(); // id -> { resolve, timer }
  #parts = new HistoryParts();
  #maxFrame = LEGACY_SERVER_FRAME_BYTES;

  /**
   * on.welcome(ev): identified. on.frame(ev): other frames (not the acks of
   * requests). on.down(closeEvent): closed or could not open; reconnect()
   * is up to the caller. on.tooLarge(bytes, limit), on.stale(): see above.
   */
  constructor(url, newId, on) {
    this.#url = url;
    this.#newId = newId;
    this.#on = on;
    globalThis.addEventListener?.('online', () => {
      if (this.#retryTimer) this.#connect();
    });
  }

  get identified() {
    return this.#identified;
  }

  /** Connects and says hello with who(): { name }, { credential } or { link_code }, asked at every connect. */
  open(who) {
    this.#who = who;
    this.#attempt = 0;
    this.#connect();
  }

  /** Tries again after the backoff; returns the attempt's number. */
  reconnect() {
    if (this.#retryTimer || this.#ws) return this.#attempt;
    this.#attempt += 1;
    this.#retryTimer = setTimeout(() => this.#connect(), backoff(this.#attempt));
    return this.#attempt;
  }

  /** Closes for good: no down event, no reconnect. */
  close() {
    const ws = this.#ws;
    this.#ws = null;
    this.#stop();
    if (ws) ws.close(1000);
  }

  /** Closes and reports it (on.down), e.g. after the server refused the hello. */
  drop() {
    this.#ws?.close();
  }

  /** Sends an event if identified; false if it could not go out. */
  send(event) {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || !this.#identified) return false;
    ws.send(encodeClient(event));
    return true;
  }

  /** Sends a request under a new id and resolves with its ack (a failed one when there is none). */
  request(event) {
    const id = this.#newId();
    return new Promise((resolve) => {
      if (!this.send({ ...event, id })) {
        resolve(noAck(id, 'disconnected', 'not connected'));
        return;
      }
      const timer = setTimeout(() => {
        this.#requests.delete(id);
        resolve(noAck(id, 'timeout', 'no answer'));
      }, ACK_TIMEOUT_MS);
      this.#requests.set(id, { resolve, timer });
    });
  }

  #connect() {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#identified = false;
    this.#maxFrame = LEGACY_SERVER_FRAME_BYTES;
    const ws = new WebSocket(this.#url);
    this.#ws = ws;
    const timer = setTimeout(() => {
      if (this.#ws === ws && !this.#identified) ws.close();
    }, CONNECT_TIMEOUT_MS);
    ws.onopen = () => ws.send(encodeClient({ type: 'hello', protocol: PROTOCOL_VERSION, ...this.#who(), device: DEVICE, client: CLIENT }));
    ws.onmessage = (e) => {
      if (this.#ws !== ws || typeof e.data !== 'string') return;
      this.#live?.received(performance.now());
      const bytes = overLimit(e.data, this.#maxFrame);
      if (bytes) {
        this.#on.tooLarge?.(bytes, this.#maxFrame);
        ws.close();
        return;
      }
      const ev = decodeServer(e.data);
      if (ev) this.#receive(ev);
    };
    ws.onclose = (e) => {
      clearTimeout(timer);
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#stop();
      this.#on.down(e);
    };
  }

  #receive(frame) {
    const ev = frame.type === 'history' ? this.#parts.add(frame) : frame;
    if (!ev) return; // more parts to come
    if (ev.type === 'welcome') {
      this.#identified = true;
      this.#attempt = 0;
      this.#maxFrame = ev.limits.max_server_frame_bytes;
      this.#live = new Liveness(Math.max(ev.heartbeat_ms, 1000), performance.now());
      this.#watch();
      this.#on.welcome(ev);
      return;
    }
    const request = ev.type === 'ack' && this.#requests.get(ev.id);
    if (!request) {
      this.#on.frame(ev);
      return;
    }
    this.#requests.delete(ev.id);
    clearTimeout(request.timer);
    request.resolve(ev);
  }

  // Checks the link when the liveness rule has something due.
  #watch() {
    clearTimeout(this.#liveTimer);
    const live = this.#live;
    if (!live) return;
    this.#liveTimer = setTimeout(() => {
      const due = live.check(performance.now());
      if (due === 'dead') this.#dead();
      else {
        if (due === 'ping') this.request({ type: 'ping' });
        this.#watch();
      }
    }, Math.max(0, live.wake() - performance.now()));
  }

  // A silent link: dropped at once (a close handshake would wait on it).
  #dead() {
    const ws = this.#ws;
    this.#on.stale?.();
    this.#ws = null;
    this.#stop();
    ws?.close();
    this.#on.down({ code: 1006, reason: 'no answer' });
  }

  // Not identified any more: no reconnect pending, every request answered.
  #stop() {
    this.#identified = false;
    this.#live = null;
    clearTimeout(this.#liveTimer);
    this.#parts.clear();
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    for (const [id, { resolve, timer }] of this.#requests) {
      clearTimeout(timer);
      resolve(noAck(id, 'disconnected', 'the connection was lost'));
    }
    this.#requests.clear();
  }
}
