// A program in a pseudo-terminal (util-linux `script` makes one), what it
// draws kept with its escape sequences removed, for tests to search. The
// real chat-tui (tui.mjs) and the real OpenSSH client (ssh.mjs) run in one.
//
// The text is the stream of what was written, not a rendered screen: a
// diffing terminal app writes only the cells that changed and moves the
// cursor over the rest, so look for words without spaces that appear on a
// fresh line (a new message), not for a sentence.

import { spawn, spawnSync } from 'node:child_process';

import { WAIT_MS, eventually } from './harness.mjs';

// CSI and OSC sequences, and the other escapes a terminal program writes
export const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78DEHMNOZc]/g;

/** Why `script` cannot make a pseudo-terminal here, or null. */
export function scriptMissing() {
  return spawnSync('script', ['--version']).status === 0 ? null : 'script (util-linux) is not installed';
}

const quote = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;

export class PtyProgram {
  #child;
  #raw = '';
  #what;

  /**
   * Runs `argv` in a terminal of `cols` x `rows` with exactly `env`; `what`
   * names it in failure messages.
   */
  constructor(argv, { env, cols = 120, rows = 40, what = argv[0] }) {
    this.#what = what;
    const cmd = `stty cols ${cols} rows ${rows}; exec ${argv.map(quote).join(' ')}`;
    this.#child = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env });
    const keep = (d) => {
      this.#raw = (this.#raw + d).slice(-200_000);
    };
    this.#child.stdout.on('data', keep);
    this.#child.stderr.on('data', keep);
    this.exited = new Promise((resolve) => this.#child.once('exit', (code, signal) => resolve(code ?? signal)));
  }

  /** Everything drawn so far, as text. */
  get screen() {
    return this.#raw.replace(ESCAPES, '');
  }

  /** Waits until the drawn text matches `re`; returns the match. */
  async waitFor(re, { timeout = 2 * WAIT_MS, message = String(re) } = {}) {
    return eventually(() => re.exec(this.screen), {
      timeout,
      message: `${this.#what} to show ${message} (it shows: ${JSON.stringify(this.screen.slice(-600))})`,
    });
  }

  /** Types `text` and Enter. */
  line(text) {
    this.write(`${text}\r`);
  }

  /** Types raw bytes. */
  write(bytes) {
    this.#child.stdin.write(bytes);
  }

  get running() {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /**
   * Types `keys` (what quits the program) and resolves with its exit status;
   * kills it if it has not ended in time ('SIGKILL').
   */
  async quit(keys) {
    if (this.running) this.write(keys);
    const timeout = new Promise((resolve) => setTimeout(resolve, WAIT_MS, 'timeout'));
    if ((await Promise.race([this.exited, timeout])) === 'timeout') this.#child.kill('SIGKILL');
    return this.exited;
  }
}
