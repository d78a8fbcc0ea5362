// The join page: a name (or the one this browser is signed in as, or a link
// code) and a room, checked by the protocol's rules before anything is sent;
// what went wrong said under the form. `?username=ann&room=dev` fills it in;
// signed in, `?room=dev` joins at once (a reload goes straight back).

import * as protocol from './protocol.js';
import { setStatus, showError } from './ui.js';

/** What is wrong with a typed name, in words, or null; and the name as the server will take it. */
export function checkName(raw, max) {
  const r = protocol.normalizeName(raw, max);
  if (r.ok) return [r.value, null];
  if (r.why === 'name_empty') return [null, 'Enter a display name.'];
  if (r.why === 'name_too_long') return [null, `A name can have at most ${r.max} characters (this one has ${r.got}).`];
  return [null, r.why === 'name_only_marks' ? 'A name needs a letter, digit or symbol.' : 'A name cannot contain control, invisible or unassigned characters.'];
}

/** What is wrong with a typed room ("#Dev" means "dev"), in words, or null; and the room. */
export function checkRoom(raw, max) {
  const r = protocol.roomName(protocol.normalizeRoom(raw), max);
  if (r.ok) return [r.value, null];
  if (r.why === 'room_empty') return [null, 'Enter a room name.'];
  if (r.why === 'room_too_long') return [null, `A room name can have at most ${r.max} characters.`];
  return [null, 'A room name may only use letters a-z, digits, - and _.'];
}

export class JoinPage {
  #ui;
  #signedInAs;

  /** join(way, room): connect with `way` ({ code }, { name }, {}: the credential) and join. signedInAs(): a name or ''. */
  constructor(ui, join, signedInAs) {
    this.#ui = ui;
    this.#signedInAs = signedInAs;
    ui.joinForm.addEventListener('submit', (e) => {
      e.preventDefault();
      if (ui.joinSubmit.disabled) return;
      const code = protocol.trim(ui.joinCode.value);
      const way = code ? { code } : this.#signedIn() ? {} : null;
      const [name, nameErr] = way ? [null, null] : checkName(ui.joinName.value);
      const [room, roomErr] = checkRoom(ui.joinRoom.value);
      ui.joinName.setAttribute('aria-invalid', String(Boolean(nameErr)));
      ui.joinRoom.setAttribute('aria-invalid', String(Boolean(roomErr)));
      ui.joinError.classList.remove('info');
      if (nameErr || roomErr) {
        showError(ui.joinError, nameErr || roomErr);
        (nameErr ? ui.joinName : ui.joinRoom).focus();
        return;
      }
      ui.joinRoom.value = room;
      showError(ui.joinError, '');
      ui.joinSubmit.disabled = true;
      ui.joinSubmit.textContent = 'Joining…';
      setStatus(ui.status, 'connecting', 'Connecting…');
      join(way || { name }, room);
    });
  }

  // Signed in on this browser: the name is the identity's, not typed.
  #signedIn() {
    const ui = this.#ui;
    const name = this.#signedInAs();
    ui.joinName.readOnly = Boolean(name);
    ui.joinNameHint.textContent = name ? 'Signed in on this browser.' : 'Up to 32 characters.';
    if (name) ui.joinName.value = name;
    return name;
  }

  prefill() {
    const ui = this.#ui;
    const q = new URLSearchParams(location.search);
    ui.joinName.value = q.get('username') || '';
    ui.joinRoom.value = q.get('room') || '';
    if (this.#signedIn() && ui.joinRoom.value) ui.joinForm.requestSubmit();
    else if (!ui.joinName.value) ui.joinName.focus();
    else if (!ui.joinRoom.value) ui.joinRoom.focus();
    else ui.joinSubmit.focus();
  }

  #ready() {
    this.#ui.joinSubmit.disabled = false;
    this.#ui.joinSubmit.textContent = 'Join';
    setStatus(this.#ui.status, 'idle', 'Not connected');
  }

  /** Joining failed: says why and focuses the field to fix ('name', 'room', 'code', or the button). */
  failed(message, field = null) {
    const ui = this.#ui;
    this.#ready();
    this.#signedIn();
    ui.joinError.classList.remove('info');
    showError(ui.joinError, message);
    if (field === 'code') ui.joinCodeBox.open = true;
    ({ name: ui.joinName, room: ui.joinRoom, code: ui.joinCode }[field] || ui.joinSubmit).focus();
  }

  /** Into the chat: the form is done, the address remembers the name and room. */
  leave(name, room) {
    this.#ui.joinSubmit.disabled = false;
    this.#ui.joinSubmit.textContent = 'Join';
    this.#ui.joinCode.value = '';
    this.#ui.joinView.hidden = true;
    this.#ui.chatView.hidden = false;
    history.replaceState(null, '', `?${new URLSearchParams({ username: name, room })}`);
  }

  /** Back from the chat (the last room was left), with a note. */
  back(message, name, room) {
    const ui = this.#ui;
    this.#ready();
    ui.chatView.hidden = true;
    ui.joinView.hidden = false;
    ui.joinName.value = name;
    ui.joinRoom.value = room || '';
    ui.joinCode.value = '';
    this.#signedIn();
    ui.joinError.classList.add('info');
    showError(ui.joinError, message);
    ui.joinRoom.focus();
  }
}
