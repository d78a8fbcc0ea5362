// The real OpenSSH client in a pseudo-terminal, signed in to chat-server's
// ssh entrance (--ssh-listen) with a key made by ssh-keygen: the chat-tui
// the server draws over the channel is what it shows.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { eventually } from './harness.mjs';
import { PtyProgram, scriptMissing } from './pty.mjs';

/** Why the OpenSSH client cannot be driven here, or null. */
export function sshMissing() {
  for (const tool of ['ssh', 'ssh-keygen']) {
    // neither has --version; both name themselves on an unknown option
    if (spawnSync(tool, ['-V'], { timeout: 20_000 }).error) {
      return `${tool} is not installed (apt-get install openssh-client)`;
    }
  }
  return scriptMissing();
}

/** The port of the ssh listener a server started with `--ssh-listen 127.0.0.1:0` printed. */
export async function sshPort(server) {
  const [, port] = await eventually(() => /ssh listening on 127\.0\.0\.1:(\d+)/.exec(server.stdout()), {
    message: `chat-server to print its ssh address (it printed: ${JSON.stringify(server.stdout())})`,
  });
  return Number(port);
}

/**
 * A directory of its own for one ssh user: an Ed25519 key without a
 * passphrase (ssh-keygen) and a known_hosts file, used as the home too.
 */
export class SshIdentity {
  constructor(name) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'chat-ssh-'));
    this.key = path.join(this.dir, 'id_ed25519');
    this.knownHosts = path.join(this.dir, 'known_hosts');
    const made = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', this.key], { encoding: 'utf8', timeout: 20_000 });
    if (made.status !== 0) throw new Error(`ssh-keygen failed: ${made.stderr || made.error}`);
  }

  remove() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class Ssh extends PtyProgram {
  /**
   * `ssh -tt -p PORT user@127.0.0.1 ROOMS...` with `identity`'s key only,
   * no user config or agent, and the host key accepted on first sight.
   */
  constructor({ port, identity, user, rooms = [], cols = 120, rows = 40 }) {
    const options = [
      'IdentitiesOnly=yes',
      'IdentityAgent=none',
      `UserKnownHostsFile=${identity.knownHosts}`,
      'GlobalKnownHostsFile=/dev/null',
      'StrictHostKeyChecking=accept-new',
      'PasswordAuthentication=no',
      'KbdInteractiveAuthentication=no',
      'LogLevel=ERROR',
      'ConnectTimeout=10',
    ].flatMap((o) => ['-o', o]);
    super(['ssh', '-F', '/dev/null', '-tt', '-p', String(port), '-i', identity.key, ...options, `${user}@127.0.0.1`, ...rooms], {
      what: `ssh ${user}@`,
      cols,
      rows,
      env: { PATH: process.env.PATH, HOME: identity.dir, TERM: 'xterm-256color', LANG: 'C.UTF-8' },
    });
  }

  /** Quits the chat (/quit) and resolves with ssh's exit status. */
  close() {
    return this.quit('/quit\r');
  }
}
