// Is the link alive? The page's own check, as the protocol asks of every
// client: after heartbeat_ms with nothing received it asks (a ping request);
// when nothing came for a further heartbeat_ms after that ping, the link is
// dead. Counted from the ping, not from the last frame, so a timer that a
// hidden tab fired late costs a ping, never a connection. No DOM, no timers:
// the caller passes the time and asks wake() when to call check().

export class Liveness {
  #every;
  #last;
  #pinged = null; // when the ping went out, since the last frame

  constructor(heartbeatMs, now) {
    this.#every = heartbeatMs;
    this.#last = now;
  }

  /** A frame came in. */
  received(now) {
    this.#last = now;
    this.#pinged = null;
  }

  /** What is due at `now`: 'ping', 'dead', or null. */
  check(now) {
    if (this.#pinged === null) {
      if (now - this.#last < this.#every) return null;
      this.#pinged = now;
      return 'ping';
    }
    return now - this.#pinged >= this.#every ? 'dead' : null;
  }

  /** When check() may have something to do. */
  wake() {
    return (this.#pinged ?? this.#last) + this.#every;
  }
}
