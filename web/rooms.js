// The rooms and conversations (DMs) you are in: the model (plain data,
// tested without a browser) and the sidebar: an item per room or DM
// (unread count, Leave), and the people in the current room (click one to
// write to them alone; their roles as `@` and `+`, and a menu of the
// moderation actions you may take on them).

import { menuActions, prefix } from './moderation.js';
import { button, h } from './ui.js';

/** True for the key of a DM conversation ("@u_1+u_2") rather than a room name. */
export const isDm = (key) => key.startsWith('@');

/** The DM key of two identities: both ids, sorted. */
export const dmKey = (a, b) => `@${a < b ? `${a}+${b}` : `${b}+${a}`}`;

/** The other person's id in a DM key, or null if `me` is not in it. */
export function peerOf(key, me) {
  const [a, b] = key.slice(1).split('+');
  return a === me ? b : b === me ? a : null;
}

/** "#dev", or the peer's name for a DM. */
export const label = (room) => (room.peer ? room.peer.name : `#${room.name}`);

/** A room as the page knows it. Sequence numbers are those of the server's store (its epoch). */
export function newRoom(name) {
  return {
    name,
    peer: null, // { id, name }: the other person of a DM
    lazy: false, // a DM listed but not joined yet: joined when opened
    topic: '',
    modes: { moderated: false, invite_only: false, topic_lock: false, slow_s: 0, filter: 'server' },
    users: [], // { id, name, away?, role? }, in join order
    removed: '', // kicked or banned: why, in words (not rejoined until /join)
    unread: 0,
    mentioned: false, // someone wrote your name since you last looked
    entered: false, // its first join succeeded: it is in the sidebar
    joined: false, // on the current connection
    firstSeq: 0, // oldest message shown, for "Load older"
    lastSeq: 0, // newest message shown, to resume after a reconnect
    more: false, // older messages exist
    loadingOlder: false,
    atBottom: true, // where the reader was when they switched away
    scrollTop: 0,
  };
}

/** Records a message's seq; false if it was shown already (a duplicate). */
export function track(room, seq) {
  if (typeof seq !== 'number') return true;
  if (seq <= room.lastSeq) return false;
  room.lastSeq = seq;
  if (!room.firstSeq) room.firstSeq = seq;
  return true;
}

/** Someone ({ id, name }) joined or left a room: the user list, one entry per person. */
export function presence(room, user, joined) {
  room.users = room.users.filter((u) => u.id !== user.id);
  if (joined) room.users.push(user);
}

/** A new message store (another epoch): the numbers we kept mean nothing there. */
export function forgetNumbers(room) {
  room.lastSeq = 0;
  room.firstSeq = 0;
  room.more = false;
}

/** The rooms you are in, in the order joined, and which one is shown. */
export class Rooms {
  #rooms = new Map();
  current = null;

  add(name) {
    if (!this.#rooms.has(name)) this.#rooms.set(name, newRoom(name));
    return this.#rooms.get(name);
  }

  get(name) {
    return this.#rooms.get(name);
  }

  has(name) {
    return this.#rooms.has(name);
  }

  delete(name) {
    this.#rooms.delete(name);
    if (this.current === name) this.current = null;
  }

  clear() {
    this.#rooms.clear();
    this.current = null;
  }

  values() {
    return this.#rooms.values();
  }

  get shown() {
    return this.current === null ? undefined : this.#rooms.get(this.current);
  }

  get unread() {
    let total = 0;
    for (const r of this.#rooms.values()) total += r.unread;
    return total;
  }
}

/** The sidebar: room items (by room name) and the user list of the shown room. */
export class Sidebar {
  #ui;
  #items = new Map(); // room name -> { item, open, badge, leave }
  #on;

  /** on.open(name), on.leave(name), on.query(user), on.menu(room, user, li): a room clicked, its Leave, a person, their menu. */
  constructor(ui, on) {
    this.#ui = ui;
    this.#on = on;
    ui.sidebarToggle.addEventListener('click', () => {
      const open = ui.sidebar.classList.toggle('open');
      ui.sidebarToggle.setAttribute('aria-expanded', String(open));
    });
  }

  #item(name) {
    let it = this.#items.get(name);
    if (!it) {
      const open = button('room-link', undefined, () => this.#on.open(name));
      const badge = h('span', 'badge');
      badge.hidden = true;
      const title = h('span', 'room-name');
      open.append(title, badge);
      const leave = button('room-leave', isDm(name) ? 'Close' : 'Leave', () => this.#on.leave(name));
      const item = h('li', 'room-item');
      item.dataset.room = name;
      item.append(open, leave);
      it = { item, open, badge, leave, title };
      this.#items.set(name, it);
      (isDm(name) ? this.#ui.dms : this.#ui.rooms).append(item);
    }
    return it;
  }

  /** Shows a room's item as the model says. */
  update(room, current) {
    const { item, open, badge, leave, title } = this.#item(room.name);
    const name = label(room);
    title.textContent = name;
    leave.setAttribute('aria-label', `${leave.textContent} ${name}`);
    if (current) open.setAttribute('aria-current', 'true');
    else open.removeAttribute('aria-current');
    item.classList.toggle('has-mention', room.mentioned);
    badge.hidden = room.unread === 0;
    badge.textContent = room.unread > 99 ? '99+' : String(room.unread);
    const extra = room.unread ? `, ${room.unread} unread` : '';
    open.setAttribute('aria-label', `${name}${extra}${room.joined || room.lazy ? '' : ', not connected'}`);
    item.classList.toggle('offline', !room.joined && !room.lazy);
  }

  updateAll(rooms) {
    for (const room of rooms.values()) if (room.entered) this.update(room, room.name === rooms.current);
    const total = rooms.unread;
    const shown = rooms.shown;
    document.title = total ? `(${total}) Chat` : shown ? `${label(shown)} – Chat` : 'Chat';
    this.#ui.dmsSection.hidden = !this.#ui.dms.childElementCount;
    this.#ui.sidebarToggle.textContent = total ? `Rooms & people (${total} unread)` : 'Rooms & people';
  }

  setLeaving(name, busy) {
    const it = this.#items.get(name);
    if (it) it.leave.disabled = busy;
  }

  remove(name) {
    this.#items.get(name)?.item.remove();
    this.#items.delete(name);
  }

  clear() {
    for (const name of [...this.#items.keys()]) this.remove(name);
    this.#ui.users.replaceChildren();
  }

  /**
   * `me`: { id, name } of the reader. Others are buttons: a click opens the DM with them; beside
   * them, the menu of what you may do to them, if anything.
   */
  showUsers(room, me) {
    this.#ui.usersTitle.textContent = `People in ${label(room)} (${room.users.length})`;
    const mine = room.users.find((u) => u.id === me.id)?.role;
    const menu = this.#ui.users.querySelector('.person-menu'); // an open person's menu stays open
    const items = room.users.map((user) => {
      const { id, name, away, role } = user;
      const li = h('li', 'user');
      li.dataset.user = name;
      li.dataset.id = id;
      if (prefix(role)) li.append(Object.assign(h('span', 'role', prefix(role)), { title: role }));
      if (role) li.dataset.role = role;
      if (id === me.id) {
        li.classList.add('me');
        li.append(name, h('span', 'you', ' (you)'));
      } else {
        const b = button('user-link', name, () => this.#on.query(user));
        b.setAttribute('aria-label', `Write to ${name} alone`);
        li.append(b);
        if (!room.peer && menuActions(mine, role).length) {
          const menu = button('user-menu', '⋯', () => this.#on.menu(room, user, li));
          menu.setAttribute('aria-label', `Moderate ${name}`);
          li.append(menu);
        }
      }
      if (typeof away === 'string') {
        li.classList.add('away');
        li.append(h('span', 'away-note', away ? ` away: ${away}` : ' away'));
      }
      return li;
    });
    this.#ui.users.replaceChildren(...items);
    if (menu) items.find((li) => li.dataset.id === menu.dataset.id)?.append(menu);
  }

  close() {
    this.#ui.sidebar.classList.remove('open');
    this.#ui.sidebarToggle.setAttribute('aria-expanded', 'false');
  }
}
