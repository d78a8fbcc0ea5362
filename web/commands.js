// The slash commands of the message field, as the shared table
// (commands.json) names them; what each does on the page. Answers are
// notices in the conversation shown.

import { help } from './commandline.js';
import { request as moderation } from './moderation.js';
import * as protocol from './protocol.js';
import { describe, formatTime } from './ui.js';

// Who a name in /whois, /query or /msg did not find.
export const nobody = (name) => ({ code: 'nobody', message: `nobody is called ${name}` });

// Why a topic or away reason was not sent, in words.
const refusal = (what, r) => (r.max ? `${what} can have at most ${r.max} characters (this one has ${r.got}).` : `${what} cannot contain line breaks, tabs, control or invisible characters.`);

export class Commands {
  #page;
  #devices = []; // device ids as the last /devices numbered them

  /**
   * page: { request(event) -> ack, say(text, kind), join(room) -> error or '', leave(room?) -> error or '',
   * query(name) -> [key, error], send(key, line), shown() -> room, location(lat, lon), locate(), table(), list() }.
   */
  constructor(page) {
    this.#page = page;
  }

  /** A parsed command line ({ command, args }); `typed`: the field as it was. */
  async run({ command, args }, typed) {
    const p = this.#page;
    const [a, b] = args;
    const fail = (err) => err && p.say(err, 'error');
    const ask = async (ev, { ok, who } = {}) => {
      const ack = await p.request(ev);
      if (!ack.ok) p.say(`/${command.name}: ${describe(who && ack.error?.code === 'not_found' ? nobody(who) : ack.error)}`, 'error');
      else if (ok) p.say(ok, 'info');
      return ack.ok;
    };
    switch (command.name) {
      case 'join':
        return fail(await p.join(a));
      case 'leave':
        return fail(await p.leave(a));
      case 'me':
        return p.send(p.shown().name, { text: a, action: true, typed });
      case 'query':
        return fail((await p.query(a))[1]);
      case 'msg': {
        const [key, err] = await p.query(a);
        return err ? fail(err) : p.send(key, { text: b, action: false, typed });
      }
      case 'nick':
        return ask({ type: 'nick', name: protocol.trim(a) });
      case 'away': {
        const r = protocol.awayReason(a ?? '');
        if (!r.ok) return fail(refusal('An away reason', r));
        return ask(r.value ? { type: 'away', reason: r.value } : { type: 'away' }, { ok: `You are marked away${r.value ? `: ${r.value}` : ''}. /back ends it.` });
      }
      case 'back':
        return ask({ type: 'back' }, { ok: 'You are back.' });
      case 'whois':
        return ask({ type: 'whois', name: protocol.trim(a) }, { who: a });
      case 'list':
        return p.list();
      case 'topic': {
        const room = p.shown();
        if (a === '-delete') return ask({ type: 'topic', room: room.name, text: '' });
        const t = protocol.topic(a ?? '');
        if (!t.ok) return fail(refusal('A topic', t));
        if (t.value) return ask({ type: 'topic', room: room.name, text: t.value });
        return p.say(room.topic ? `The topic is: ${room.topic}` : 'No topic is set.', 'info');
      }
      case 'help':
        for (const line of help(p.table(), 'web', a)) p.say(line, 'info');
        return;
      case 'location':
        return a === undefined ? p.locate() : this.#location(a, b);
      case 'logout': {
        // a number of the last /devices list, or a device id
        const device = /^\d+$/.test(a ?? '') ? this.#devices[Number(a) - 1] : a;
        if (a && !device) return fail(`No device ${a} in the last /devices list; type /devices to see the numbers.`);
        return ask(device ? { type: 'logout', device } : { type: 'logout' }, { ok: device && `Device ${device} is signed out.` });
      }
      default: {
        // the moderation commands, in the room shown
        const mod = moderation(command.name, args, p.shown().name);
        if (mod?.error) return fail(mod.error);
        return ask(mod ? mod.frame : { type: command.name });
      }
    }
  }

  #location(a, b) {
    const [lat, lon] = [Number(a), Number(b)];
    const verdict = protocol.location(lat, lon);
    if (!/^[-+]?\d+(\.\d+)?$/.test(a) || !/^[-+]?\d+(\.\d+)?$/.test(b) || !verdict.ok) {
      this.#page.say('/location takes a latitude (-90 to 90) and a longitude (-180 to 180), like /location 51.5007 -0.1246.', 'error');
      return;
    }
    this.#page.location(lat, lon);
  }

  /** The answer to /link (link_code) or /devices (devices). */
  frame(ev) {
    const { say } = this.#page;
    if (ev.type === 'link_code') {
      say(`Link code ${ev.code}, valid until ${formatTime(ev.expires_ts)}, once. Enter it on the other device under “I have a code”, or run chat-tui --link ${ev.code}.`, 'link');
      return;
    }
    this.#devices = ev.devices.map((d) => d.id);
    ev.devices.forEach((d, i) => {
      const seen = d.current ? 'this device' : `last seen ${formatTime(d.last_seen_ts)}`;
      say(`Device ${d.id} (${i + 1}): ${d.name}, added ${formatTime(d.created_ts)}, ${seen}.`, 'info');
    });
    say('Sign one out with /logout NUMBER or /logout DEVICE (alone: this browser).', 'info');
  }
}
