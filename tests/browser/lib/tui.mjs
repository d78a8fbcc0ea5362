// The real chat-tui in a pseudo-terminal, with a home of its own so it
// starts with no stored credential.
//
// Environment: CHAT_TUI_BIN, the chat-tui binary (default: target/debug/chat-tui).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { REPO } from './harness.mjs';
import { PtyProgram, scriptMissing } from './pty.mjs';

export const TUI_BIN = process.env.CHAT_TUI_BIN || path.join(REPO, 'target', 'debug', 'chat-tui');

/** Why chat-tui cannot be driven here, or null. */
export function tuiMissing() {
  if (!existsSync(TUI_BIN)) return `chat-tui not found at ${TUI_BIN} (run: cargo build -p tui-client, or set CHAT_TUI_BIN)`;
  const noScript = scriptMissing();
  if (noScript) return noScript;
  const help = spawnSync(TUI_BIN, ['--help'], { encoding: 'utf8', timeout: 20_000 });
  if (!/--link\b/.test(help.stdout || '')) return `${TUI_BIN} has no --link option (an older chat-tui: rebuild it)`;
  return null;
}

export class Tui extends PtyProgram {
  #home;

  /** Starts chat-tui with `args` (its server, name or --link, room). */
  constructor(args) {
    const home = mkdtempSync(path.join(os.tmpdir(), 'chat-tui-home-'));
    super([TUI_BIN, ...args], {
      what: 'chat-tui',
      env: {
        PATH: process.env.PATH,
        HOME: home,
        XDG_DATA_HOME: path.join(home, 'data'),
        XDG_CONFIG_HOME: path.join(home, 'config'),
        TERM: 'xterm-256color',
        LANG: 'C.UTF-8',
      },
    });
    this.#home = home;
  }

  async close() {
    await this.quit('\x03'); // Ctrl-C
    rmSync(this.#home, { recursive: true, force: true });
  }
}
