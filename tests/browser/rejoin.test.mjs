// A rejoin that fails keeps the room: the server comes back allowing fewer
// rooms than the page was in, so one rejoin is refused. The room stays in
// the sidebar, its waiting line is marked "Not sent" with the reason, a
// notice says what to do, and doing it (/join, then Retry) works.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ProtocolClient, browserSuite, entry, eventually, joinAs, launchBrowser, restartServer, startServer } from './lib/harness.mjs';

const RECONNECT_MS = 45_000;

await browserSuite('a failed rejoin', ({ pw, WebSocket }) => {
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

  test('keeps the room in the sidebar, fails its waiting line with the reason and says what to do', async () => {
    const kay = await joinAs(browser, server.url, 'kay', 'one');
    open.push(kay);
    const { page } = kay;
    await page.getByTestId('room-input').fill('two');
    await page.getByTestId('room-input').press('Enter');
    await eventually(async () => (await page.locator('#room-title').textContent()) === '#two', { message: 'in #two' });

    await server.stop();
    const status = page.getByTestId('connection-status');
    await eventually(async () => (await status.getAttribute('data-state')) === 'reconnecting', { message: 'reconnecting' });
    await page.getByTestId('message-input').fill('waiting in two');
    await page.getByTestId('message-input').press('Enter');
    const mine = entry(page, 'waiting in two');
    await mine.waitFor();

    // back, but one room per connection: #one rejoins first, #two is refused
    server = await restartServer({ ...server, args: ['--max-rooms', '1'] });
    await eventually(async () => (await status.getAttribute('data-state')) === 'connected', { timeout: RECONNECT_MS, message: 'connected' });
    await eventually(async () => /\bfailed\b/.test(await mine.getAttribute('class')), { message: 'the waiting line failed' });
    assert.match(await mine.textContent(), /Not sent: You are in as many rooms as the server allows/);
    const notice = page.getByTestId('messages').locator('li.notice', { hasText: 'Could not rejoin #two' });
    await notice.waitFor();
    assert.match(await notice.textContent(), /Type \/join two to try again/);
    const rooms = page.getByTestId('rooms');
    assert.equal(await rooms.getByRole('button', { name: /^#two/ }).count(), 1, 'still in the sidebar');
    assert.match(await rooms.getByRole('button', { name: /^#two/ }).getAttribute('aria-label'), /not connected/);

    // doing what it says: make room, /join two, Retry
    await rooms.getByRole('button', { name: 'Leave #one' }).click();
    await eventually(async () => (await rooms.getByRole('button', { name: /^#one/ }).count()) === 0, { message: '#one left' });
    await page.getByTestId('message-input').fill('/join two');
    await page.getByTestId('message-input').press('Enter');
    await eventually(async () => !/not connected/.test(await rooms.getByRole('button', { name: /^#two/ }).getAttribute('aria-label')), {
      message: '#two rejoined',
    });
    await mine.getByRole('button', { name: 'Retry' }).click();
    await eventually(async () => /\bsent\b/.test(await mine.getAttribute('class')), { message: 'sent after the retry' });
    const w = await ProtocolClient.connect(WebSocket, server.url, 'lou');
    open.push(w);
    await w.join('two');
    const history = await w.waitFor((e) => e.type === 'history' && e.room === 'two');
    assert.equal(history.events.filter((e) => e.text === 'waiting in two').length, 1, 'stored once');
    assert.equal(history.events.some((e) => e.text === '/join two'), false, 'the command was not sent');
    const refused = /^console error: WebSocket connection to .* failed: .*ERR_CONNECTION_REFUSED/;
    assert.deepEqual(kay.problems.filter((p) => !refused.test(p)), []);
  });
});
