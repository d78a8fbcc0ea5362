// What the server says about your rooms: who is in them, their messages
// and locations, live or stored (on join, on resume, on request), into the
// models and views; unread where the reader is not looking.

import { renderMessage } from './messages.js';
import { HISTORY_PAGE } from './protocol.js';
import { isDm, label, peerOf, presence, track } from './rooms.js';
import { announce, describe } from './ui.js';

export class Feed {
  #page;

  /** page: { rooms, messages, sidebar, lines, announcer, me(), request(event), notify(title, body, key), header(room), join(name) }. */
  constructor(page) {
    this.#page = page;
  }

  /** The DM of the last room_state for one (the answer to a query comes before its ack). */
  lastDm = null;

  /** A room event: handled if it is about a room you are in, or a DM of yours (opened if need be). */
  handle(ev) {
    const room = this.#page.rooms.get(ev.room) || this.#dm(ev);
    if (!room) return;
    if (ev.type === 'room_state') this.#state(room, ev);
    else if (ev.type === 'user_joined' || ev.type === 'user_left') this.#presence(room, ev);
    else if (['message', 'location', 'topic', 'moderation'].includes(ev.type)) this.#message(room, ev);
    else if (ev.type === 'history') this.#history(room, ev);
  }

  notice(room, text, ts, kind) {
    this.#keepFirst(room, this.#page.messages.notice(room.name, text, ts, kind));
  }

  /** "Load older messages": the page before the oldest one shown. */
  async loadOlder(room) {
    if (room.loadingOlder || !room.firstSeq) return;
    const { messages } = this.#page;
    room.loadingOlder = true;
    messages.loading(room.name, true);
    const ack = await this.#page.request({ type: 'history', room: room.name, before: room.firstSeq, limit: HISTORY_PAGE });
    room.loadingOlder = false;
    messages.loading(room.name, false, ack.ok ? null : describe(ack.error));
  }

  // Old entries were dropped from the page: "Load older" starts at `first`.
  #keepFirst(room, first) {
    if (first === null) return;
    room.firstSeq = first;
    room.more = true;
  }

  #shown(room) {
    return room.name === this.#page.rooms.current;
  }

  // Shown and looked at: a hidden tab's room gathers unread lines too.
  #seen(room) {
    return this.#shown(room) && !document.hidden;
  }

  /** A DM listed in the sidebar, not joined yet: opening it joins it. */
  listDm(key, peer) {
    const { rooms, sidebar } = this.#page;
    const room = rooms.add(key);
    if (!room.entered) Object.assign(room, { entered: true, lazy: true });
    room.peer = { ...peer };
    sidebar.updateAll(rooms);
    return room;
  }

  // A frame about one of your DMs the page does not show yet: a query's
  // answer (room_state), or a message, which lists the DM as unread. A line
  // you sent from another device names only you: the DM is joined at once,
  // and its room_state names the other person (its history shows the line).
  #dm(ev) {
    const me = this.#page.me();
    const peer = typeof ev.room === 'string' && isDm(ev.room) && peerOf(ev.room, me.id);
    if (!peer || (ev.type !== 'room_state' && ev.type !== 'message' && ev.type !== 'location')) return null;
    const name = ev.type === 'room_state' ? ev.users.find((u) => u.id === peer)?.name : ev.user === peer && ev.from;
    const room = this.listDm(ev.room, { id: peer, name: name || '…' });
    if (ev.type === 'room_state') room.lazy = false;
    else if (!name) this.#page.join(ev.room);
    return room;
  }

  #state(room, ev) {
    room.users = ev.users;
    room.topic = ev.topic || '';
    room.modes = ev.modes;
    if (room.peer) {
      // joined now (opened, asked for, or to learn the name): live lines show
      room.lazy = false;
      this.lastDm = room.name;
      room.peer.name = ev.users.find((u) => u.id === room.peer.id)?.name || room.peer.name;
      this.#page.sidebar.updateAll(this.#page.rooms);
    }
    if (this.#shown(room)) {
      this.#page.sidebar.showUsers(room, this.#page.me());
      this.#page.header(room);
    }
  }

  #presence(room, ev) {
    const joined = ev.type === 'user_joined';
    presence(room, joined && ev.role ? { id: ev.user, name: ev.name, role: ev.role } : { id: ev.user, name: ev.name }, joined);
    const text = `${ev.name} ${joined ? 'joined' : 'left'}`;
    this.notice(room, text, ev.ts, joined ? 'join' : 'leave');
    if (!this.#shown(room)) return;
    this.#page.sidebar.showUsers(room, this.#page.me());
    announce(this.#page.announcer, `${text}.`);
  }

  // Appends a message's entry; unread where the reader is not.
  #add(room, entry, unread) {
    this.#keepFirst(room, this.#page.messages.append(room.name, entry.li, { unread, own: entry.own }));
    if (unread) this.#count(room, false);
  }

  // One more unread line where the reader is not looking; a DM's (`tell`: what to notify) marks it.
  #count(room, dm, tell) {
    if (this.#seen(room)) return;
    room.unread += 1;
    if (dm) room.mentioned = true;
    if (tell) this.#page.notify(room.peer?.name || label(room), tell, room.name);
    this.#page.sidebar.updateAll(this.#page.rooms);
  }

  #message(room, ev) {
    if (room.lazy) {
      // listed, not joined: counted now, shown from its history once opened
      const own = ev.user === this.#page.me().id;
      if (!own) this.#count(room, true, `${ev.from}: ${ev.type === 'location' ? 'shared a location' : ev.text}`);
      return;
    }
    if (ev.type === 'topic') {
      room.topic = ev.text;
      if (this.#shown(room)) this.#page.header(room);
    }
    const gap = typeof ev.seq === 'number' && room.lastSeq && ev.seq > room.lastSeq + 1;
    if (this.#own(room, ev)) return;
    const entry = renderMessage(ev, this.#page.me());
    if (!entry || !track(room, ev.seq)) return;
    if (gap) this.notice(room, 'Some messages were missed here.', ev.ts, 'info');
    if ((entry.mentioned || (room.peer && !entry.own)) && !this.#seen(room)) room.mentioned = true;
    this.#add(room, entry, !entry.own && ev.type !== 'topic');
    if (entry.own) return;
    if (entry.mentioned || (room.peer && ev.type !== 'topic')) this.#page.notify(room.peer ? ev.from : `${ev.from} in ${label(room)}`, entry.spoken, room.name);
    if (this.#shown(room)) announce(this.#page.announcer, entry.spoken);
    else if (entry.mentioned) announce(this.#page.announcer, `${ev.from} mentioned you in #${room.name}.`);
  }

  // The server's copy of one of your lines: already in the list.
  #own(room, ev) {
    if (!this.#page.lines.echo(room.name, ev)) return false;
    track(room, ev.seq);
    return true;
  }

  #history(room, ev) {
    const { messages } = this.#page;
    const events = ev.events.filter((e) => typeof e.seq === 'number');
    if (room.loadingOlder) {
      const older = events.filter((e) => !room.firstSeq || e.seq < room.firstSeq);
      messages.prepend(room.name, older.map((e) => renderMessage(e, this.#page.me())?.li).filter(Boolean));
      if (events.length) room.firstSeq = Math.min(room.firstSeq || Infinity, events[0].seq);
      room.more = ev.more;
      messages.setMore(room.name, ev.more);
      return;
    }
    const resumed = room.lastSeq > 0;
    // A fresh page after a resume could not be taken may leave a gap.
    const next = events.find((e) => e.seq > room.lastSeq);
    const gap = ev.missed || (resumed && next ? next.seq - room.lastSeq - 1 : 0);
    if (gap > 0) this.notice(room, `${gap} ${gap === 1 ? 'message' : 'messages'} not shown.`, Date.now(), 'info');
    for (const e of events) {
      const entry = !this.#own(room, e) && renderMessage(e, this.#page.me());
      if (!entry || !track(room, e.seq)) continue;
      // stored before we came: styled as history (what a resume missed is new)
      if (!resumed) entry.li.classList.add('history');
      this.#add(room, entry, resumed && !entry.own);
    }
    if (!resumed) {
      room.more = ev.more;
      messages.setMore(room.name, ev.more);
    }
  }
}
