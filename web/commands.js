// The commands of the message field: /link (a code for another device),
// /devices, /logout [DEVICE] (none: this one), /join ROOM. Answers are
// notices in the room shown.

import { describe, formatTime } from './ui.js';

export class Commands {
  #page;

  /** page: { request(event) -> ack, say(text, kind), join(room) -> error or '' }. */
  constructor(page) {
    this.#page = page;
  }

  async run({ name, arg }) {
    const { request, say } = this.#page;
    if (name === 'join') {
      const err = arg ? await this.#page.join(arg) : 'Type the room after /join, e.g. /join dev.';
      if (err) say(err, 'error');
      return;
    }
    const ack = await request(name === 'logout' && arg ? { type: name, device: arg } : { type: name });
    if (!ack.ok) say(`/${name}: ${describe(ack.error)}`, 'error');
    else if (name === 'logout' && arg) say(`Device ${arg} is signed out.`, 'info');
  }

  /** The answer to /link (link_code) or /devices (devices). */
  frame(ev) {
    const { say } = this.#page;
    if (ev.type === 'link_code') {
      say(`Link code ${ev.code}, valid until ${formatTime(ev.expires_ts)}, once. Enter it on the other device under “I have a code”, or run chat-tui --link ${ev.code}.`, 'link');
      return;
    }
    for (const d of ev.devices) {
      const seen = d.current ? 'this device' : `last seen ${formatTime(d.last_seen_ts)}`;
      say(`Device ${d.id}: ${d.name}, added ${formatTime(d.created_ts)}, ${seen}.`, 'info');
    }
    say('Sign one out with /logout DEVICE (without DEVICE: this browser).', 'info');
  }
}
