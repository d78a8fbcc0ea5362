// What the server says about people and rooms besides their messages:
// renames, away and back, "bob is away" after a DM, /whois answers, the
// room directory (/list, Browse rooms) and the topic in the header. Text
// from the server goes in as text.

import { modesText } from './moderation.js';
import { label } from './rooms.js';
import { button, formatTime, h } from './ui.js';

export class People {
  #page;

  /**
   * page: { ui, rooms, sidebar, me(), renamedMe(name), notice(room, text, ts, kind), say(text, kind),
   * join(room), request(event) }.
   */
  constructor(page) {
    this.#page = page;
    page.ui.browseRooms.addEventListener('click', () => this.list());
  }

  /** Asks for the room directory; the answer fills the list (room_list). */
  async list() {
    const ack = await this.#page.request({ type: 'list' });
    if (!ack.ok) this.#page.say(`/list: ${ack.error?.message || 'failed'}`, 'error');
  }

  /** A frame this module handles; false if it is not one. */
  handle(ev) {
    const fn = { renamed: this.#renamed, away: this.#away, back: this.#away, away_notice: this.#awayNotice, whois: this.#whois, room_list: this.#roomList }[ev.type];
    if (!fn) return false;
    fn.call(this, ev);
    return true;
  }

  /** The shown room's name and topic in the header. */
  header(room) {
    const { ui } = this.#page;
    ui.roomTitle.textContent = label(room);
    ui.roomTopic.textContent = room.topic || '';
    ui.roomTopic.title = room.topic || '';
    const modes = room.peer || !room.modes ? 'no modes' : modesText(room.modes);
    ui.roomModes.hidden = modes === 'no modes';
    ui.roomModes.textContent = ui.roomModes.hidden ? '' : modes;
  }

  #refresh() {
    const { rooms, sidebar, me } = this.#page;
    sidebar.updateAll(rooms);
    if (rooms.shown) {
      sidebar.showUsers(rooms.shown, me());
      this.header(rooms.shown);
    }
  }

  #renamed(ev) {
    const { rooms, notice, me } = this.#page;
    for (const room of rooms.values()) {
      const user = room.users.find((u) => u.id === ev.user);
      if (user) user.name = ev.name;
      if (room.peer?.id === ev.user) room.peer.name = ev.name;
      if (user || room.peer?.id === ev.user) notice(room, `${ev.old} is now known as ${ev.name}`, ev.ts, 'info');
    }
    if (ev.user === me().id) this.#page.renamedMe(ev.name);
    this.#refresh();
  }

  #away(ev) {
    for (const room of this.#page.rooms.values()) {
      for (const u of room.users) {
        if (u.id !== ev.user) continue;
        if (ev.type === 'away') u.away = ev.reason ?? '';
        else delete u.away;
      }
    }
    this.#refresh();
  }

  #awayNotice(ev) {
    const room = this.#page.rooms.get(ev.room);
    const text = `${ev.name} is away${ev.reason ? `: ${ev.reason}` : ''}`;
    if (room) this.#page.notice(room, text, Date.now(), 'info');
    else this.#page.say(text, 'info');
  }

  #whois(ev) {
    const parts = [
      ev.online ? 'online' : 'offline',
      `${ev.devices} ${ev.devices === 1 ? 'device' : 'devices'}`,
      typeof ev.away === 'string' ? `away${ev.away ? `: ${ev.away}` : ''}` : 'not away',
      ev.rooms.length ? `shares ${ev.rooms.map((r) => `#${r}`).join(' ')} with you` : 'shares no room with you',
      `known since ${formatTime(ev.since_ts)}`,
    ];
    this.#page.say(`${ev.user.name}: ${parts.join(', ')}.`, 'info');
  }

  // The directory: each room a button that joins it.
  #roomList(ev) {
    const { ui, join } = this.#page;
    const items = ev.rooms.map(({ room, members, topic }) => {
      const b = button('', `#${room} `, () => join(room));
      b.dataset.room = room;
      b.append(h('small', '', `${members} ${members === 1 ? 'person' : 'people'}${topic ? ` · ${topic}` : ''}`));
      const li = h('li');
      li.append(b);
      return li;
    });
    if (!items.length) items.push(h('li', 'hint', 'No rooms with people in them.'));
    ui.directory.replaceChildren(...items);
    ui.directory.hidden = false;
    ui.sidebar.classList.add('open');
    ui.sidebarToggle.setAttribute('aria-expanded', 'true');
  }
}
