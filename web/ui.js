// DOM helpers shared by the views, and the page's wording for what the
// server says. Text goes in as text (textContent, text nodes), never HTML.

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
  bad_credential: 'The server no longer knows this browser’s sign-in (signed out, or expired); it was forgotten. Pick a name, or use “I have a code”.',
  credential_revoked: 'This browser was signed out. To come back under your name, type /link on another of your devices and enter the code under “I have a code”.',
  bad_link_code: 'That code is unknown, used or expired. Type /link on a signed-in device for a new one.',
  registration_closed: 'This server takes no new names. Ask its operator for a code, then use “I have a code”.',
  not_found: 'No such device of yours; see /devices.',
};

/**
 * A sentence for a failed request ({ code, message }); the server's own
 * message where the page has nothing better. `name` completes the sentence
 * for name_claimed.
 */
export function describe(error, { name = '' } = {}) {
  const code = error && error.code;
  if (code === 'name_claimed') {
    return `The name “${name}” belongs to someone. If it is yours, type /link in the chat on a device where you are signed in, then enter the code here under “I have a code”.`;
  }
  const msg = String((error && error.message) || '').replace(/^./, (c) => c.toUpperCase());
  return WORDING[code] || (msg ? `${msg}.` : 'Something went wrong. Try again.');
}
