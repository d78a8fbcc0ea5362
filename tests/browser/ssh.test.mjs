// Three ways into one room at once: the real OpenSSH client signed in by a
// key to chat-server's ssh entrance, the real chat-tui, and the page in
// Chromium. The ssh user sees the room's history, its line reaches the
// other two, theirs reach its screen, and the page lists it among the
// people in the room while it is there.
//
// The terminals' words have no spaces: their screens are searched as the
// stream that was written (see lib/pty.mjs).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ProtocolClient, browserSuite, entry, eventually, joinAs, launchBrowser, sendFromPage, startServer, userList } from './lib/harness.mjs';
import { Ssh, SshIdentity, sshMissing, sshPort } from './lib/ssh.mjs';
import { Tui, tuiMissing } from './lib/tui.mjs';

const CI = Boolean(process.env.CI) && !/^(0|false)$/i.test(process.env.CI);

await browserSuite('an ssh user with a chat-tui user and a browser user', ({ pw, WebSocket }) => {
  const missing = sshMissing() || tuiMissing();
  if (missing && !CI) {
    process.stdout.write(`SKIP ssh with chat-tui and the page: ${missing}\n`);
    test('ssh with chat-tui and the page', { skip: missing }, () => {});
    return;
  }
  let server;
  let browser;
  let port;
  const open = [];

  before(async () => {
    if (missing) throw new Error(`cannot run the ssh tests: ${missing}; CI is set, so this is a failure`);
    // its host key is made in the server's (temporary) data directory
    server = await startServer({ args: ['--ssh-listen', '127.0.0.1:0'] });
    port = await sshPort(server);
    browser = await launchBrowser(pw);
  });

  after(async () => {
    for (const item of open.reverse()) await item.close().catch(() => {});
    await browser?.close();
    await server?.stop();
  });

  // The people the page lists in its room, in any order.
  async function waitForPeople(page, expected) {
    await eventually(
      async () => {
        const now = (await userList(page)).sort();
        if (JSON.stringify(now) !== JSON.stringify(expected)) throw new Error(`the page lists ${JSON.stringify(now)}`);
        return true;
      },
      { message: `the page to list ${JSON.stringify(expected)}` },
    );
  }

  test('ssh, chat-tui and the page talk in one room', async () => {
    // history from before any of them came
    const hal = await ProtocolClient.connect(WebSocket, server.url, 'hal');
    await hal.join('den');
    assert.equal((await hal.request({ type: 'send', room: 'den', text: 'seeded-before-ssh' })).ok, true);
    await hal.close();

    const pia = await joinAs(browser, server.url, 'pia', 'den');
    open.push(pia);
    await entry(pia.page, 'seeded-before-ssh').waitFor();
    const tom = new Tui(['--server', `${server.url.replace(/^http/, 'ws')}/ws`, '--name', 'tom', '--room', 'den']);
    open.push(tom);
    await tom.waitFor(/#den/, { message: 'the room' });
    await waitForPeople(pia.page, ['pia', 'tom']);

    const identity = new SshIdentity('sam');
    open.push({ close: async () => identity.remove() });
    const sam = new Ssh({ port, identity, user: 'sam', rooms: ['den'] });
    open.push(sam);
    await sam.waitFor(/seeded-before-ssh/, { message: 'the room history' });
    // the page lists the ssh user with the others
    await waitForPeople(pia.page, ['pia', 'sam', 'tom']);

    sam.line('sam-over-ssh');
    const line = entry(pia.page, 'sam-over-ssh');
    await line.waitFor();
    assert.match(await line.getAttribute('data-who'), /\|sam$/, 'the page shows it as sam\'s');
    await tom.waitFor(/sam-over-ssh/, { message: "sam's line" });

    tom.line('tom-from-chat-tui');
    await sam.waitFor(/tom-from-chat-tui/, { message: "tom's line" });
    await sendFromPage(pia.page, 'pia-from-the-page');
    await sam.waitFor(/pia-from-the-page/, { message: "pia's line" });

    // a quit is a clean exit, and sam leaves the page's list
    assert.equal(await sam.close(), 0, 'ssh exits with status 0 after /quit');
    await waitForPeople(pia.page, ['pia', 'tom']);
    assert.deepEqual(pia.problems, []);
  });
});
