// The message field: Enter or Send sends (Shift+Enter: a new line), "/me
// waves" is an emote, /link /devices /logout /join are the page's commands,
// never sent. Free for the next line at once: the line is the outbox's job.

import * as protocol from './protocol.js';
import { showError } from './ui.js';

const EMPTY = 'Type a message first.';
const COMMAND_RE = /^\/(link|devices|logout|join)(?:\s+([^]*))?$/;

/** The command in what was typed ({ name, arg }), or null for a line to send. */
export function command(typed) {
  const m = COMMAND_RE.exec(protocol.trim(typed));
  return m && { name: m[1], arg: protocol.trim(m[2] || '') };
}

export class Composer {
  #ui;
  #send;
  #run;
  /** The id of a failed line whose text went back into the field; sending replaces it. */
  editing = null;

  /** send({ text, action, typed }): a line to send; `typed` is the field as it was. run({ name, arg }): a command. */
  constructor(ui, send, run) {
    this.#ui = ui;
    this.#send = send;
    this.#run = run;
    ui.composer.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    ui.messageInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    ui.messageInput.addEventListener('input', () => {
      this.#fit();
      if (ui.sendError.textContent === EMPTY) this.error('');
    });
  }

  submit() {
    const input = this.#ui.messageInput;
    const typed = input.value;
    const cmd = command(typed);
    const me = /^\/me\s+/.exec(typed);
    const text = me ? typed.slice(me[0].length) : typed;
    // Too long goes to the server, which says why; the entry keeps the text.
    if (!cmd && protocol.messageText(text).code === 'empty_text') {
      this.error(EMPTY);
      return;
    }
    input.value = '';
    this.#fit();
    this.error('');
    input.removeAttribute('aria-invalid');
    input.focus();
    if (cmd) this.#run(cmd);
    else this.#send({ text, action: Boolean(me), typed });
  }

  /** Puts a line back into the field, to edit and send again. */
  putBack(typed, invalid = false) {
    this.#ui.messageInput.value = typed;
    this.#fit();
    if (invalid) this.#ui.messageInput.setAttribute('aria-invalid', 'true');
  }

  get empty() {
    return !this.#ui.messageInput.value;
  }

  error(text) {
    showError(this.#ui.sendError, text);
  }

  focus() {
    this.#ui.messageInput.focus();
  }

  setRoom(name) {
    this.#ui.messageInput.placeholder = `Message #${name}`;
  }

  #fit() {
    const lines = this.#ui.messageInput.value.split('\n').length;
    this.#ui.messageInput.rows = Math.min(6, Math.max(1, lines));
  }
}
