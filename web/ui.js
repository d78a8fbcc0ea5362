// Small DOM helpers shared by the views, and the page's wording for what the
// server says. Text always goes in as text (textContent, text nodes), never
// as HTML.

import { MAX_TRIES } from './outbox.js';

/** Every element with an id, as camelCase (join-name -> ui.joinName). */
export function elements(root = document) {
  const ui = {};
  for (const node of root.querySelectorAll('[id]')) ui[node.id.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = node;
  return ui;
}

export function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function button(className, text, onClick) {
  const b = h('button', className, text);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

/** "3:05 PM" today; older times (history) with the date first. */
export function formatTime(ts) {
  const d = new Date(ts);
  const hours = d.getHours();
  const minutes = String(d.getMinutes()).padStart(2, '0');
  const time = `${hours % 12 || 12}:${minutes} ${hours < 12 ? 'AM' : 'PM'}`;
  if (d.toDateString() === new Date().toDateString()) return time;
  return `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })}, ${time}`;
}

export function timeEl(ts) {
  const t = h('time', 'time', formatTime(ts));
  t.dateTime = new Date(ts).toISOString();
  return t;
}

export function showError(node, text) {
  node.textContent = text || '';
}

/** The top bar's connection status ('idle', 'connecting', 'connected', 'reconnecting', 'error'). */
export function setStatus(node, kind, text) {
  node.dataset.state = kind;
  node.textContent = text;
  document.body.dataset.connection = kind;
}

/** Says `text` to screen readers through the live region, keeping the last few. */
export function announce(region, text) {
  region.append(h('p', '', text));
  while (region.childElementCount > 3) region.firstElementChild.remove();
}

const WORDING = {
  rate_limited: 'You are sending too fast. Wait a moment, then try again.',
  too_many_rooms: 'You are in as many rooms as the server allows. Leave one first.',
  shutting_down: 'The server is restarting. Try again in a moment.',
  disconnected: 'Not connected to the server. Reconnecting; try again in a moment.',
  timeout: 'The server did not answer in time. Try again.',
  gave_up: `Not confirmed after ${MAX_TRIES} tries.`,
};

/**
 * A sentence for a failed request ({ code, message }); the server's own
 * message where the page has nothing better. `name` and `room` complete the
 * sentence for name_taken; `chatting` says the name is already in use in
 * other rooms.
 */
export function describe(error, { name = '', room = '', chatting = false } = {}) {
  const code = error && error.code;
  if (code === 'name_taken') {
    const hint = chatting ? 'One name is used in every room you are in.' : 'Pick another name.';
    return `The name “${name}” is already taken in #${room}. ${hint}`;
  }
  const msg = String((error && error.message) || '').replace(/^./, (c) => c.toUpperCase());
  return WORDING[code] || (msg ? `${msg}.` : 'Something went wrong. Try again.');
}
