// The real chat-tui in a pseudo-terminal (util-linux `script` makes one),
// with a home of its own so it starts with no stored credential. What it
// draws is kept, escape sequences removed, for tests to search.
//
// Environment: CHAT_TUI_BIN, the chat-tui binary (default: target/debug/chat-tui).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { REPO, WAIT_MS, eventually } from './harness.mjs';

export const TUI_BIN = process.env.CHAT_TUI_BIN || path.join(REPO, 'target', 'debug', 'chat-tui');

/** Why chat-tui cannot be driven here, or null. */
export function tuiMissing() {
  if (!existsSync(TUI_BIN)) return `chat-tui not found at ${TUI_BIN} (run: cargo build -p tui-client, or set CHAT_TUI_BIN)`;
  if (spawnSync('script', ['--version']).status !== 0) return 'script (util-linux) is not installed';
  const help = spawnSync(TUI_BIN, ['--help'], { encoding: 'utf8', timeout: 20_000 });
  if (!/--link\b/.test(help.stdout || '')) return `${TUI_BIN} has no --link option (an older chat-tui: rebuild it)`;
  return null;
}

const quote = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;
// CSI and OSC sequences, and the other escapes a terminal program writes
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78DEHMNOZc]/g;

export class Tui {
  #child;
  #raw = '';
  #home;

  /** Starts chat-tui with `args` (its server, name or --link, room). */
  constructor(args) {
    this.#home = mkdtempSync(path.join(os.tmpdir(), 'chat-tui-home-'));
    const cmd = `stty cols 120 rows 40; exec ${[TUI_BIN, ...args].map(quote).join(' ')}`;
    this.#child = spawn('script', ['-qfec', cmd, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: this.#home,
        XDG_DATA_HOME: path.join(this.#home, 'data'),
        XDG_CONFIG_HOME: path.join(this.#home, 'config'),
        TERM: 'xterm-256color',
        LANG: 'C.UTF-8',
      },
    });
    this.#child.stdout.on('data', (d) => {
      this.#raw = (this.#raw + d).slice(-200_000);
    });
    this.#child.stderr.on('data', (d) => {
      this.#raw = (this.#raw + d).slice(-200_000);
    });
    this.exited = new Promise((resolve) => this.#child.once('exit', resolve));
  }

  /** Everything drawn so far, as text. */
  get screen() {
    return this.#raw.replace(ESCAPES, '');
  }

  /** Waits until the drawn text matches `re`; returns the match. */
  async waitFor(re, { timeout = 2 * WAIT_MS, message = String(re) } = {}) {
    return eventually(() => re.exec(this.screen), { timeout, message: `chat-tui to show ${message} (it shows: ${JSON.stringify(this.screen.slice(-600))})` });
  }

  /** Types `text` and Enter. */
  line(text) {
    this.#child.stdin.write(`${text}\r`);
  }

  async close() {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.stdin.write('\x03'); // Ctrl-C
      const timeout = new Promise((resolve) => setTimeout(resolve, WAIT_MS, 'timeout'));
      if ((await Promise.race([this.exited, timeout])) === 'timeout') this.#child.kill('SIGKILL');
    }
    rmSync(this.#home, { recursive: true, force: true });
  }
}
