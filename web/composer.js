// The message field: Enter or Send sends (Shift+Enter: a new line). A line
// starting with / is a command of the shared table (commandline.js), never
// sent as text: unknown ones are refused here; // sends a literal /. Free
// for the next line at once: the line is the outbox's job.

import { parse } from './commandline.js';
import * as protocol from './protocol.js';
import { showError } from './ui.js';

const EMPTY = 'Type a message first.';
const capital = (s) => s.replace(/^./, (c) => c.toUpperCase());

/** What the page does with a typed line, by the table: { text }, { command, args } or { error, message }. */
export function read(table, typed) {
  if (!table) return typed.startsWith('/') && !typed.startsWith('//') ? { error: 'loading', message: 'Commands are still loading; try again in a moment.' } : parse([], typed);
  const parsed = parse(table, typed);
  if (parsed.command && !parsed.command.clients.includes('web')) return { error: 'tui_only', message: `${parsed.command.usage} is a chat-tui command; /help lists the page's.` };
  return parsed;
}

export class Composer {
  #ui;
  #send;
  #run;
  /** The id of a failed line whose text went back into the field; sending replaces it. */
  editing = null;

  #table;
  #refused = false; // the error shown is a refused command line's

  /** send({ text, action, typed }): a line to send; `typed` is the field as it was. run(parsed, typed): a command. table(): the commands, once loaded. */
  constructor(ui, send, run, table) {
    this.#ui = ui;
    this.#send = send;
    this.#run = run;
    this.#table = table;
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
      if (ui.sendError.textContent === EMPTY || this.#refused) this.error('');
      this.#refused = false;
    });
  }

  submit() {
    const input = this.#ui.messageInput;
    const typed = input.value;
    const parsed = read(this.#table(), typed);
    if (parsed.error) {
      this.error(capital(parsed.message));
      this.#refused = true;
      return;
    }
    // Too long goes to the server, which says why; the entry keeps the text.
    if (!parsed.command && protocol.messageText(parsed.text).code === 'empty_text') {
      this.error(EMPTY);
      return;
    }
    input.value = '';
    this.#fit();
    this.error('');
    input.removeAttribute('aria-invalid');
    input.focus();
    if (parsed.command) this.#run(parsed, typed);
    else this.#send({ text: parsed.text, action: false, typed });
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

  setRoom(label) {
    this.#ui.messageInput.placeholder = `Message ${label}`;
  }

  #fit() {
    const lines = this.#ui.messageInput.value.split('\n').length;
    this.#ui.messageInput.rows = Math.min(6, Math.max(1, lines));
  }
}
