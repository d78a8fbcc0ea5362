// The page survives a server restart: it shows that it is reconnecting,
// comes back by itself on the same address and rejoins its rooms. And a
// server that is not there is reported on the join page.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  ProtocolClient,
  browserSuite,
  entry,
  eventually,
  joinAs,
  launchBrowser,
  openPage,
  restartServer,
  sendFromPage,
  startServer,
  waitForUsers,
} from './lib/harness.mjs';

// Bounded by the page's longest backoff step (15 s) plus slack.
const RECONNECT_MS = 30_000;

await browserSuite('reconnecting', ({ pw, WebSocket }) => {
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

  async function status(page) {
    const s = page.getByTestId('connection-status');
    return { state: await s.getAttribute('data-state'), text: await s.textContent() };
  }

  test('the page reconnects after the server restarts and rejoins its rooms', async () => {
    const ann = await joinAs(browser, server.url, 'ann', 'lobby');
    open.push(ann);
    await ann.page.getByTestId('room-input').fill('ops');
    await ann.page.getByTestId('room-input').press('Enter');
    await eventually(async () => (await ann.page.locator('#room-title').textContent()) === '#ops', { message: 'in #ops' });
    await ann.page.getByTestId('rooms').getByRole('button', { name: /^#lobby/ }).click();
    await sendFromPage(ann.page, 'before the restart');
    assert.equal((await status(ann.page)).state, 'connected');

    await server.stop();
    await eventually(async () => (await status(ann.page)).state === 'reconnecting', { message: 'reconnecting state' });
    assert.match((await status(ann.page)).text, /reconnecting/i);
    // what was already said stays on screen
    await entry(ann.page, 'before the restart').waitFor();

    server = await restartServer(server);
    await eventually(async () => (await status(ann.page)).state === 'connected', {
      timeout: RECONNECT_MS,
      message: 'connected again',
    });
    await ann.page.getByTestId('messages').locator('li.notice', { hasText: 'Reconnected' }).waitFor();

    // the new server knows ann is in both rooms again
    const bob = await ProtocolClient.connect(WebSocket, server.url, 'bob');
    open.push(bob);
    await bob.join('lobby');
    const lobby = await bob.waitFor((e) => e.type === 'room_state' && e.room === 'lobby');
    assert.deepEqual(lobby.users, ['ann', 'bob']);
    await bob.join('ops');
    const ops = await bob.waitFor((e) => e.type === 'room_state' && e.room === 'ops');
    assert.deepEqual(ops.users, ['ann', 'bob']);
    await waitForUsers(ann.page, ['ann', 'bob']);

    // and messages flow both ways
    assert.equal((await bob.request({ type: 'send', room: 'lobby', text: 'welcome back' })).ok, true);
    await entry(ann.page, 'welcome back').waitFor();
    await sendFromPage(ann.page, 'glad to be back');
    await bob.waitFor((e) => e.type === 'message' && e.text === 'glad to be back' && e.from === 'ann');
  });

  test('sending while disconnected keeps the text and says why', async () => {
    const cy = await joinAs(browser, server.url, 'cy', 'quiet');
    open.push(cy);
    await server.stop();
    await eventually(async () => (await status(cy.page)).state === 'reconnecting', { message: 'reconnecting state' });
    await cy.page.getByTestId('message-input').fill('are you there?');
    await cy.page.getByTestId('message-input').press('Enter');
    await eventually(async () => /not connected/i.test(await cy.page.getByTestId('send-error').textContent()), {
      message: 'not connected error',
    });
    assert.equal(await cy.page.getByTestId('message-input').inputValue(), 'are you there?');
    server = await restartServer(server);
    await eventually(async () => (await status(cy.page)).state === 'connected', { timeout: RECONNECT_MS, message: 'connected again' });
    await cy.page.getByTestId('send').click();
    await entry(cy.page, 'are you there?').waitFor();
  });

  test('an unreachable server is reported on the join page', async () => {
    const page = await openPage(browser, `${server.url}/?username=dee&room=lobby`);
    open.push(page);
    await server.stop();
    await page.page.getByTestId('join-submit').click();
    await eventually(async () => /cannot reach/i.test(await page.page.getByTestId('join-error').textContent()), {
      message: 'unreachable error',
    });
    assert.equal(await page.page.getByTestId('join-submit').isEnabled(), true, 'can try again');
    assert.ok(page.problems.every((p) => !p.startsWith('dialog')), 'no alert');

    // once the server is back, the same button works
    server = await restartServer(server);
    await page.page.getByTestId('join-submit').click();
    await page.page.getByTestId('message-input').waitFor({ state: 'visible' });
  });
});
