// Moderation on the page: what `moderation` events change (roles in the
// user list, the room's modes in the header), `removed` (the room kept,
// marked left, with who and why), `mod_log` answers, and a person's menu
// in the user list with the actions you may take on them (ranks by the
// shared rule in moderation.js). The sentence of each event is shown by
// feed.js like any kept room event. Text from the server goes in as text.

import { describe, menuActions, parseDuration, roleAfter } from './moderation.js';
import { label } from './rooms.js';
import { button, describe as wording, formatTime, h } from './ui.js';

// The person's menu: the button text of each action.
const MENU_TEXT = { kick: 'Kick', ban: 'Ban', mute: 'Mute', unmute: 'Unmute', op: 'Make operator', deop: 'Take operator', voice: 'Give voice', devoice: 'Take voice', invite: 'Invite' };

export class Moderate {
  #page;
  #menu = null; // { node, user }

  /** page: { rooms, sidebar, me(), request(event) -> ack, notice(room, text, ts, kind), say(text, kind), header(room), left(room) }. */
  constructor(page) {
    this.#page = page;
    document.addEventListener('keydown', (e) => e.key === 'Escape' && this.close());
  }

  /** A frame this module handles fully (removed, mod_log): true. A moderation event is applied and left for the feed: false. */
  handle(ev) {
    if (ev.type === 'moderation') this.#apply(ev);
    else if (ev.type === 'removed') this.#removed(ev);
    else if (ev.type === 'mod_log') this.#modLog(ev);
    else return false;
    return ev.type !== 'moderation';
  }

  /** Your role in `room`, from its user list. */
  myRole(room) {
    return room.users.find((u) => u.id === this.#page.me().id)?.role;
  }

  #apply(ev) {
    const { rooms, sidebar, me, header } = this.#page;
    const room = rooms.get(ev.room);
    if (!room) return;
    if (ev.action === 'mode' && ev.modes) room.modes = { ...ev.modes };
    const user = ev.target && room.users.find((u) => u.id === ev.target.id);
    if (user) {
      const role = roleAfter(ev.action, user.role);
      if (role) user.role = role;
      else delete user.role;
    }
    if (room !== rooms.shown) return;
    header(room);
    sidebar.showUsers(room, me());
  }

  #removed(ev) {
    const { rooms, sidebar, notice, left } = this.#page;
    const room = rooms.get(ev.room);
    if (!room) return;
    const how = ev.action === 'ban' ? 'banned from' : 'removed from';
    const by = ev.by ? ev.by.name : 'the server';
    const text = `You were ${how} ${label(room)} by ${by}${ev.reason ? `: ${ev.reason}` : ''}.`;
    Object.assign(room, { joined: false, removed: text, users: [] });
    left(room, ev.action === 'ban' ? 'banned' : 'forbidden', text);
    notice(room, `${text} Type /join ${room.name} to come back${ev.action === 'ban' ? ' once the ban is lifted' : ''}.`, Date.now(), 'error');
    if (room === rooms.shown) sidebar.showUsers(room, this.#page.me());
    sidebar.updateAll(rooms);
    if (this.#menu) this.close();
  }

  #modLog(ev) {
    const { rooms, notice } = this.#page;
    const room = rooms.get(ev.room) || rooms.shown;
    if (!room) return;
    const lines = ev.entries.map((e) => describe(e) && `${formatTime(e.ts)} ${describe(e)}`).filter(Boolean);
    notice(room, lines.length ? `Moderation log of #${ev.room}, oldest first:` : `No moderation actions in #${ev.room} yet.`, Date.now(), 'info');
    for (const line of lines) notice(room, line, Date.now(), 'modlog');
  }

  /** The person's menu for `user` in `room`, under the list item `li`; closed if it was open for them. */
  open(room, user, li) {
    const wasOpen = this.#menu?.user.id === user.id && this.#menu.node.isConnected;
    this.close();
    if (wasOpen) return;
    const actions = menuActions(this.myRole(room), user.role);
    const node = h('div', 'person-menu');
    node.dataset.testid = 'person-menu';
    node.dataset.id = user.id;
    node.setAttribute('role', 'group');
    node.setAttribute('aria-label', `Actions for ${user.name}`);
    const reason = Object.assign(h('input', 'menu-reason'), { type: 'text', placeholder: 'Reason (optional)', maxLength: 500 });
    reason.setAttribute('aria-label', 'Reason (optional)');
    const duration = Object.assign(h('input', 'menu-duration'), { type: 'text', placeholder: 'For (10m, 2h, 1d; empty: until lifted)' });
    duration.setAttribute('aria-label', 'Duration of a ban or mute');
    const error = h('p', 'error menu-error');
    error.setAttribute('role', 'alert');
    const buttons = actions.map((action) => button('menu-action', MENU_TEXT[action], () => this.#act(room, user, action, { reason, duration, error })));
    const done = button('menu-close', 'Close', () => this.close());
    node.append(h('p', 'menu-title', `${user.name} in ${label(room)}`), reason, duration, ...buttons, done, error);
    li.append(node);
    this.#menu = { node, user };
    (buttons[0] || done).focus();
  }

  close() {
    this.#menu?.node.remove();
    this.#menu = null;
  }

  async #act(room, user, action, { reason, duration, error }) {
    const frame = { type: 'moderate', room: room.name, action, target: user.name };
    const why = reason.value.trim();
    if (why && (action === 'kick' || action === 'ban' || action === 'mute')) frame.reason = why;
    if ((action === 'ban' || action === 'mute') && duration.value.trim()) {
      const seconds = parseDuration(duration.value.trim());
      if (seconds === null) {
        error.textContent = 'A duration is a number and s, m, h, d or w, like 10m or 2h (at most 366 days).';
        return;
      }
      frame.duration_s = seconds;
    }
    error.textContent = '';
    const ack = await this.#page.request(frame);
    if (ack.ok) this.close();
    else error.textContent = `${action}: ${wording(ack.error)}`;
  }
}
