// Your lines on their way: each gets its entry in the list at once
// (messages.js) and its place in the outbox (outbox.js, whose timer lives
// here). The outbox decides; this shows it, and does Retry and Edit.

import { Outbox } from './outbox.js';
import { announce, describe } from './ui.js';

export class Lines {
  #outbox;
  #timer = null;
  #page;

  /** page: { send(frame), newId(), me(), currentRoom(), messages, composer, editLocation(lat, lon), announcer }. */
  constructor(page) {
    this.#page = page;
    this.#outbox = new Outbox({ send: (line) => page.send(line.frame), changed: (line) => this.#changed(line) });
  }

  /** Calls the outbox with the time, then sets the timer for what it has to do next. */
  do(fn) {
    fn(this.#outbox, performance.now());
    clearTimeout(this.#timer);
    const at = this.#outbox.wake();
    this.#timer = at === null ? null : setTimeout(() => this.do((o, now) => o.tick(now)), Math.max(0, at - performance.now()));
  }

  /** A line typed in the field ({ text, action, typed }) for `room`. */
  text(room, { text, action, typed }) {
    const { composer } = this.#page;
    // The field held a failed line's text: this send replaces it.
    if (composer.editing && this.#outbox.get(composer.editing)?.status === 'failed') this.#drop(composer.editing);
    composer.editing = null;
    this.#submit(room, action ? { type: 'send', text, action } : { type: 'send', text }, typed);
  }

  location(room, latitude, longitude) {
    this.#submit(room, { type: 'location', latitude, longitude });
  }

  #submit(room, frame, typed) {
    const id = this.#page.newId();
    const line = { id, room, frame: { ...frame, id, room }, typed };
    if (this.#page.messages.addOwn(line, line.frame, this.#page.me())) this.do((o, now) => o.submit(line, now));
  }

  /** An ack that is not for one of the page's own requests. */
  acked(ev) {
    if (ev.ok) this.do((o) => o.ack(ev.id, ev.seq));
    else this.do((o, now) => o.nack(ev.id, ev.error?.code ?? 'internal', now, ev.error?.message));
  }

  /** True if a message or location (live or resumed) is the server's copy of one of your lines, now settled. */
  echo(room, ev) {
    if (ev.user !== this.#page.me().id) return false;
    const line = this.#outbox.get(ev.id);
    if (!line || line.room !== room) return false;
    this.do((o) => o.echo(room, ev.id, ev.seq));
    this.#page.messages.setSeq(line.id, ev.seq);
    this.#outbox.forget(line.id);
    this.#page.messages.settle(line.id);
    return true;
  }

  retry(id) {
    this.do((o, now) => o.retry(id, now));
  }

  /** Edit on a failed line: back into the field (or the coordinates form) to change and send again. */
  edit(id) {
    const line = this.#outbox.get(id);
    if (!line) return;
    const { composer } = this.#page;
    if (composer.editing === id) composer.editing = null;
    this.#drop(id);
    if (line.frame.type === 'location') {
      this.#page.editLocation(line.frame.latitude, line.frame.longitude);
    } else {
      composer.putBack(line.typed);
      composer.focus();
    }
  }

  #drop(id) {
    this.#outbox.forget(id);
    this.#page.messages.dropOwn(id);
  }

  #changed(line) {
    const { messages, composer, announcer } = this.#page;
    const error = { code: line.code, message: line.message };
    const reason = line.status === 'failed' ? describe(error) : '';
    messages.mark(line, reason);
    if (line.status !== 'failed') return;
    announce(announcer, `Message not sent: ${reason}`);
    if (line.room !== this.#page.currentRoom()) return;
    composer.error(reason);
    // A message the server will never take goes back into an empty field.
    if ((line.code === 'text_too_long' || line.code === 'empty_text') && composer.empty && line.typed !== undefined) {
      composer.editing = line.id;
      composer.putBack(line.typed, true);
    }
  }
}
