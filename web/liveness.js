// Is the link alive? After heartbeat_ms with nothing received: ping; after
// another heartbeat_ms without an answer: dead. Counted from the ping, so a
// timer a hidden tab fired late costs a ping, not the connection. No timers:
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
