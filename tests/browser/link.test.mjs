// Link codes between the page and the real chat-tui, both ways: a code
// from /link in the browser signs chat-tui in (--link CODE) as the same
// person, and a code from /link in chat-tui signs a browser in ("I have a
// code"). The proof is on the wire: a line from the new device carries the
// first device's user id.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ProtocolClient, browserSuite, entry, eventually, joinAs, launchBrowser, sendFromPage, startServer, waitForUsers } from './lib/harness.mjs';
import { CODE_RE, joinWithCode, linkCode } from './lib/signin.mjs';
import { Tui, tuiMissing } from './lib/tui.mjs';

const CI = Boolean(process.env.CI) && !/^(0|false)$/i.test(process.env.CI);

await browserSuite('link codes between the page and chat-tui', ({ pw, WebSocket }) => {
  const missing = tuiMissing();
  if (missing && !CI) {
    process.stdout.write(`SKIP link code tests with chat-tui: ${missing}\n`);
    test('link codes with chat-tui', { skip: missing }, () => {});
    return;
  }
  let server;
  let browser;
  const open = [];

  before(async () => {
    if (missing) throw new Error(`cannot run the chat-tui link tests: ${missing}; CI is set, so this is a failure`);
    server = await startServer();
    browser = await launchBrowser(pw);
  });

  after(async () => {
    for (const item of open) await item.close().catch(() => {});
    await browser?.close();
    await server?.stop();
  });

  const wsUrl = () => `${server.url.replace(/^http/, 'ws')}/ws`;

  async function watcher(name, room) {
    const c = await ProtocolClient.connect(WebSocket, server.url, name);
    open.push(c);
    await c.join(room);
    return c;
  }

  test('a code from the browser signs chat-tui in as the same person', async () => {
    const ivy = await joinAs(browser, server.url, 'ivy', 'bridge');
    open.push(ivy);
    const w = await watcher('wren', 'bridge');
    const ivyId = (await w.waitFor((e) => e.type === 'room_state')).users.find((u) => u.name === 'ivy').id;
    const code = await linkCode(ivy.page);

    const tui = new Tui(['--server', wsUrl(), '--link', code, '--room', 'bridge']);
    open.push(tui);
    await tui.waitFor(/ivy/, { message: 'the name it signed in as' });
    await tui.waitFor(/#bridge/, { message: 'the room' });
    tui.line('hello from the terminal');
    const msg = await w.waitFor((e) => e.type === 'message' && e.text === 'hello from the terminal', { timeout: 20_000 });
    assert.deepEqual([msg.from, msg.user], ['ivy', ivyId], 'the same identity');
    // the page shows it as its person's own line, and the person once
    const line = entry(ivy.page, 'hello from the terminal');
    await line.waitFor();
    assert.match(await line.getAttribute('class'), /\bown\b/);
    await waitForUsers(ivy.page, ['ivy', 'wren']);
    assert.deepEqual(ivy.problems, []);
  });

  test('a code from chat-tui signs a browser in as the same person', async () => {
    const w = await watcher('wade', 'bridge2');
    const tui = new Tui(['--server', wsUrl(), '--name', 'jay', '--room', 'bridge2']);
    open.push(tui);
    const joined = await w.waitFor((e) => e.type === 'user_joined' && e.name === 'jay', { timeout: 20_000 });
    await tui.waitFor(/#bridge2/, { message: 'the room' });
    tui.line('/link');
    const [, code] = await tui.waitFor(CODE_RE, { message: 'a link code' });

    const jay = await joinWithCode(browser, server.url, code, 'bridge2');
    open.push(jay);
    await eventually(async () => (await jay.page.getByTestId('connection-status').textContent()) === 'Connected as jay', {
      message: 'the page signed in as jay',
    });
    await sendFromPage(jay.page, 'hello from the browser');
    const msg = await w.waitFor((e) => e.type === 'message' && e.text === 'hello from the browser');
    assert.deepEqual([msg.from, msg.user], ['jay', joined.user], 'the same identity');
    await waitForUsers(jay.page, ['wade', 'jay']);
    assert.ok(await jay.page.evaluate(() => localStorage.getItem('chat.credential')), 'the browser keeps its own credential');
    assert.deepEqual(jay.problems, []);
  });
});
