// Identities in the browser: a name registered on first use stays this
// browser's (a reload signs in again without typing it), nobody else can
// take it, and a second device of a frozen first one joins at once.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  ProtocolClient,
  browserSuite,
  entry,
  eventually,
  joinAs,
  launchBrowser,
  names,
  openPage,
  sendFromPage,
  startServer,
  waitForUsers,
} from './lib/harness.mjs';
import { joinWithCode, linkCode } from './lib/signin.mjs';

await browserSuite('identities in the browser', ({ pw, WebSocket }) => {
  let server;
  let browser;
  const open = [];

  before(async () => {
    server = await startServer();
    browser = await launchBrowser(pw);
  });

  after(async () => {
    for (const item of open) await item.close().catch(() => {});
    await browser?.close();
    await server?.stop();
  });

  async function watcher(name, room) {
    const c = await ProtocolClient.connect(WebSocket, server.url, name);
    open.push(c);
    await c.join(room);
    return c;
  }

  const status = (page) => page.getByTestId('connection-status').textContent();

  test('a new name is registered; after a reload the page is signed in as the same user without typing it', async () => {
    const ann = await joinAs(browser, server.url, 'ann', 'home');
    open.push(ann);
    const credential = await ann.page.evaluate(() => localStorage.getItem('chat.credential'));
    assert.ok(credential && credential.length >= 22, 'a credential of at least 128 bits is kept');
    const w = await watcher('wes', 'home');
    const state = await w.waitFor((e) => e.type === 'room_state' && e.room === 'home');
    const annId = state.users.find((u) => u.name === 'ann').id;

    await ann.page.reload();
    // nothing typed, nothing clicked: back in the room
    await ann.page.getByTestId('message-input').waitFor({ state: 'visible' });
    await eventually(async () => (await status(ann.page)) === 'Connected as ann', { message: 'connected as ann' });
    await sendFromPage(ann.page, 'still me');
    const msg = await w.waitFor((e) => e.type === 'message' && e.text === 'still me');
    assert.deepEqual([msg.from, msg.user], ['ann', annId], 'the same identity');
    // the reload left and came back: after wes now, and once
    await waitForUsers(ann.page, ['wes', 'ann']);
    assert.equal(await ann.page.evaluate(() => localStorage.getItem('chat.credential')), credential);

    // a line of ann's from another device is hers too: known by the user id
    const other = await ProtocolClient.connect(WebSocket, server.url, { credential });
    open.push(other);
    await other.join('home');
    assert.equal((await other.request({ type: 'send', room: 'home', text: 'from my terminal' })).ok, true);
    const line = entry(ann.page, 'from my terminal');
    await line.waitFor();
    assert.match(await line.getAttribute('class'), /\bown\b/);
    await waitForUsers(ann.page, ['wes', 'ann']);
    assert.equal(await ann.page.getByTestId('users').locator('li.me').count(), 1, 'one person, marked as you');
    assert.deepEqual(ann.problems, []);
  });

  test('an impostor with the same name, or a look-alike, is told how to sign in instead', async () => {
    const bea = await joinAs(browser, server.url, 'bea', 'guarded');
    open.push(bea);
    const w = await watcher('wyn', 'guarded');
    for (const name of ['bea', 'BEA', 'b\u0435a']) {
      const imp = await openPage(browser, `${server.url}/?${new URLSearchParams({ username: name, room: 'guarded' })}`);
      open.push(imp);
      await imp.page.getByTestId('join-submit').click();
      const error = imp.page.getByTestId('join-error');
      await eventually(async () => /belongs to someone/.test(await error.textContent()), { message: `name_claimed for ${name}` });
      assert.match(await error.textContent(), /\/link.*I have a code/);
      assert.equal(await imp.page.getByTestId('join-submit').isVisible(), true, 'still on the join page');
      assert.equal(await imp.page.evaluate(() => localStorage.getItem('chat.credential')), null);
      assert.deepEqual(imp.problems, []);
    }
    // nobody joined: the room still holds bea and the watcher only
    const again = await watcher('wyn2', 'guarded');
    const state = await again.waitFor((e) => e.type === 'room_state' && e.room === 'guarded');
    assert.deepEqual(names(state.users), ['bea', 'wyn', 'wyn2']);
    assert.equal(w.events.filter((e) => e.type === 'user_joined' && e.name !== 'wyn2').length, 0);
  });

  test('a second device of a frozen first one joins at once and can talk', async () => {
    const fay = await joinAs(browser, server.url, 'fay', 'frozen');
    open.push(fay);
    const w = await watcher('wil', 'frozen');
    await waitForUsers(fay.page, ['fay', 'wil']);
    const code = await linkCode(fay.page);

    // freeze the first page: its script stops at the next thing it runs
    // (the browser below it still answers the server's pings)
    const cdp = await fay.context.newCDPSession(fay.page);
    const paused = new Promise((resolve) => cdp.once('Debugger.paused', resolve));
    await cdp.send('Debugger.enable');
    await cdp.send('Debugger.pause');
    assert.equal((await w.request({ type: 'send', room: 'frozen', text: 'anyone?' })).ok, true);
    await paused;

    const fay2 = await joinWithCode(browser, server.url, code, 'frozen');
    open.push(fay2);
    await eventually(async () => (await status(fay2.page)) === 'Connected as fay', { message: 'signed in as fay' });
    await waitForUsers(fay2.page, ['fay', 'wil']);
    await sendFromPage(fay2.page, 'here from my other device');
    const msg = await w.waitFor((e) => e.type === 'message' && e.text === 'here from my other device');
    const first = w.events.find((e) => e.type === 'room_state' && e.room === 'frozen').users.find((u) => u.name === 'fay');
    assert.deepEqual([msg.from, msg.user], ['fay', first.id]);
    assert.ok(await fay2.page.evaluate(() => localStorage.getItem('chat.credential')), 'the new device has its own credential');
    await cdp.send('Debugger.resume');
    assert.equal(w.events.some((e) => e.type === 'message' && e.text.startsWith('/')), false, '/link is not sent as text');
    assert.deepEqual(fay2.problems, []);
  });

  test('/devices lists the devices; /logout signs one out, and that browser forgets its credential', async () => {
    const gil = await joinAs(browser, server.url, 'gil', 'devices');
    open.push(gil);
    const w = await watcher('wim', 'devices');
    const gil2 = await joinWithCode(browser, server.url, await linkCode(gil.page), 'devices');
    open.push(gil2);

    const command = async (page, text) => {
      await page.getByTestId('message-input').fill(text);
      await page.getByTestId('message-input').press('Enter');
    };
    await command(gil2.page, '/devices');
    const devices = gil2.page.getByTestId('messages').locator('li.notice', { hasText: /^Device d_/ });
    await eventually(async () => (await devices.count()) === 2, { message: 'two devices listed' });
    const mine = (await devices.allTextContents()).find((t) => t.includes('this device'));
    const id = /Device (d_[0-9a-f]+)/.exec(mine)[1];

    // by its number in gil's own /devices list
    await command(gil.page, '/devices');
    const listed = gil.page.getByTestId('messages').locator('li.notice', { hasText: `Device ${id} (` });
    await listed.waitFor();
    const number = /\((\d+)\)/.exec(await listed.textContent())[1];
    await command(gil.page, '/logout 9');
    await gil.page.getByTestId('messages').locator('li.notice', { hasText: 'No device 9 in the last /devices list' }).waitFor();
    await command(gil.page, `/logout ${number}`);
    await gil.page.getByTestId('messages').locator('li.notice', { hasText: `Device ${id} is signed out` }).waitFor();
    // the revoked browser is back on the join page, told why, credential gone
    await gil2.page.getByTestId('join-submit').waitFor({ state: 'visible' });
    await eventually(async () => /signed out/.test(await gil2.page.getByTestId('join-error').textContent()), { message: 'why' });
    assert.equal(await gil2.page.evaluate(() => localStorage.getItem('chat.credential')), null);
    assert.equal(await gil2.page.getByTestId('join-name').isEditable(), true, 'no longer signed in');

    await command(gil.page, '/logout');
    await gil.page.getByTestId('join-submit').waitFor({ state: 'visible' });
    assert.equal(await gil.page.evaluate(() => localStorage.getItem('chat.credential')), null);
    assert.equal(w.events.some((e) => e.type === 'message'), false, 'no command was sent as text');
    assert.deepEqual(gil.problems, []);
    assert.deepEqual(gil2.problems, []);
  });
});
