// A link that dies silently: a proxy between the page and the server stops
// forwarding without closing anything. The page notices by itself (its own
// ping, then two heartbeat intervals of silence), says it is reconnecting,
// and once the path works again it is back and its pending line is
// delivered exactly once.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ProtocolClient, browserSuite, entry, eventually, joinAs, launchBrowser, startServer, waitForUsers } from './lib/harness.mjs';
import { startSilentProxy } from './lib/proxy.mjs';

const HEARTBEAT_SECS = 2;
// Generous: two intervals, plus slack for two noisy cores.
const NOTICE_MS = 2 * HEARTBEAT_SECS * 1000 + 10_000;
// A reconnect waits out the backoff and connect timeouts of attempts made
// while the path was still dead.
const RECOVER_MS = 60_000;

await browserSuite('a silent link', ({ pw, WebSocket }) => {
  let server;
  let proxy;
  let browser;
  const open = [];

  before(async () => {
    server = await startServer({ args: ['--heartbeat-secs', String(HEARTBEAT_SECS)] });
    proxy = await startSilentProxy(server.port);
    browser = await launchBrowser(pw);
  });

  after(async () => {
    for (const item of open) await item.close().catch(() => {});
    await browser?.close();
    await proxy?.close();
    await server?.stop();
  });

  test('the page notices, reconnects once the path works, and delivers its pending line once', async () => {
    const hugo = await joinAs(browser, proxy.url, 'hugo', 'quiet');
    open.push(hugo);
    const w = await ProtocolClient.connect(WebSocket, server.url, 'wanda');
    open.push(w);
    await w.join('quiet');
    await waitForUsers(hugo.page, ['hugo', 'wanda']);
    const status = hugo.page.getByTestId('connection-status');

    proxy.stall();
    await hugo.page.getByTestId('message-input').fill('through the silence');
    await hugo.page.getByTestId('message-input').press('Enter');
    const mine = entry(hugo.page, 'through the silence');
    await mine.waitFor();
    assert.match(await mine.getAttribute('class'), /\bpending\b/);
    await eventually(async () => (await status.getAttribute('data-state')) === 'reconnecting', {
      timeout: NOTICE_MS,
      message: 'the page to say it is reconnecting',
    });
    assert.match(await status.textContent(), /reconnecting/i);

    proxy.resume();
    await eventually(async () => (await status.getAttribute('data-state')) === 'connected', { timeout: RECOVER_MS, message: 'connected again' });
    await eventually(async () => /\bsent\b/.test(await mine.getAttribute('class')), { message: 'the line sent' });
    await w.waitFor((e) => e.type === 'message' && e.text === 'through the silence');
    // a later line arrives after any second copy would have
    assert.equal((await w.request({ type: 'send', room: 'quiet', text: 'welcome back' })).ok, true);
    await entry(hugo.page, 'welcome back').waitFor();
    assert.equal(w.events.filter((e) => e.type === 'message' && e.text === 'through the silence').length, 1, 'delivered once');
    assert.equal(await mine.count(), 1, 'shown once');
    const late = await ProtocolClient.connect(WebSocket, server.url, 'xena');
    open.push(late);
    await late.join('quiet');
    const history = await late.waitFor((e) => e.type === 'history' && e.room === 'quiet');
    assert.equal(history.events.filter((e) => e.text === 'through the silence').length, 1, 'stored once');
    // attempts made while the path was dead time out; Chromium logs nothing else
    assert.deepEqual(hugo.problems.filter((p) => !/WebSocket connection to .* failed/.test(p)), []);
  });
});
