// History: what a joiner sees of earlier messages, loading older ones, and
// resuming after the page's connection drops while the room goes on.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ProtocolClient, browserSuite, entry, eventually, joinAs, launchBrowser, startServer } from './lib/harness.mjs';

// The texts shown in the message list, in order.
function texts(page) {
  return page.getByTestId('messages').locator('li.msg .text').allTextContents();
}

await browserSuite('history', ({ pw, WebSocket }) => {
  let server;
  let browser;
  const open = [];

  before(async () => {
    // a small page on join, so "load older" has something to do
    server = await startServer({ args: ['--history', '5'] });
    browser = await launchBrowser(pw);
  });

  after(async () => {
    for (const item of open) await item.close().catch(() => {});
    await browser?.close();
    await server?.stop();
  });

  test('a joiner sees recent messages and can load older ones', async () => {
    const bob = await ProtocolClient.connect(WebSocket, server.url, 'bob');
    open.push(bob);
    await bob.join('past');
    for (let i = 1; i <= 8; i++) {
      assert.equal((await bob.request({ type: 'send', room: 'past', text: `old ${i}` })).ok, true);
    }
    const ann = await joinAs(browser, server.url, 'ann', 'past');
    open.push(ann);
    await entry(ann.page, 'old 8').waitFor();
    assert.deepEqual(await texts(ann.page), ['old 4', 'old 5', 'old 6', 'old 7', 'old 8']);

    await ann.page.getByTestId('load-older').click();
    await entry(ann.page, 'old 1').waitFor();
    assert.deepEqual(await texts(ann.page), ['old 1', 'old 2', 'old 3', 'old 4', 'old 5', 'old 6', 'old 7', 'old 8']);
    await ann.page.getByTestId('load-older').waitFor({ state: 'detached' });

    // stored messages look different from live ones
    assert.equal((await bob.request({ type: 'send', room: 'past', text: 'new and live' })).ok, true);
    const live = entry(ann.page, 'new and live');
    await live.waitFor();
    const look = (loc) => loc.evaluate((li) => [li.className, ...['backgroundColor', 'borderStyle', 'color'].map((k) => getComputedStyle(li)[k])]);
    const [liveClass, ...liveLook] = await look(live);
    assert.doesNotMatch(liveClass, /\bhistory\b/);
    for (const text of ['old 1', 'old 8']) {
      const [cls, ...style] = await look(entry(ann.page, text));
      assert.match(cls, /\bhistory\b/, `${text} is marked as history`);
      assert.notDeepEqual(style, liveLook, `${text} is styled as history`);
    }
    assert.deepEqual(ann.problems, []);
  });

  test('older messages too large for one frame come in parts and are all shown', async () => {
    const heavy = await startServer({ args: ['--history', '5', '--rate-limit', '0'] });
    try {
      const bob = await ProtocolClient.connect(WebSocket, heavy.url, 'bob');
      open.push(bob);
      await bob.join('heavy');
      // 4,000 characters that JSON escapes six-fold: a page of 50 of them is
      // over the server's 1 MiB frame bound, so it comes in two parts.
      const pad = '\u0000'.repeat(3990);
      const name = (i) => `heavy ${String(i).padStart(2, '0')}`;
      for (let i = 0; i < 55; i++) {
        assert.equal((await bob.request({ type: 'send', room: 'heavy', text: name(i) + pad })).ok, true);
      }
      const ann = await joinAs(browser, heavy.url, 'ann', 'heavy');
      open.push(ann);
      await entry(ann.page, name(54)).waitFor();
      await ann.page.getByTestId('load-older').click();
      await entry(ann.page, name(0)).waitFor();
      const shown = (await texts(ann.page)).map((t) => t.replaceAll('\u0000', ''));
      assert.deepEqual(shown, Array.from({ length: 55 }, (_, i) => name(i)), 'every message of both parts, in order');
      assert.deepEqual(ann.problems, []);
    } finally {
      await heavy.stop();
    }
  });

  test('after a dropped connection the page gets exactly what it missed', async () => {
    // The page's WebSocket goes through a relay the test can cut and block.
    let blocked = false;
    const sockets = [];
    const setup = (context) =>
      context.routeWebSocket(/\/ws$/, (ws) => {
        if (blocked) {
          ws.close({ code: 1011, reason: 'blocked by the test' });
          return;
        }
        sockets.push(ws);
        const upstream = ws.connectToServer();
        ws.onMessage((m) => upstream.send(m));
        upstream.onMessage((m) => ws.send(m));
        ws.onClose(() => upstream.close());
        upstream.onClose(() => ws.close());
      });
    const cy = await joinAs(browser, server.url, 'cy', 'gap', { setup });
    open.push(cy);
    const dan = await ProtocolClient.connect(WebSocket, server.url, 'dan');
    open.push(dan);
    await dan.join('gap');
    assert.equal((await dan.request({ type: 'send', room: 'gap', text: 'seen live' })).ok, true);
    await entry(cy.page, 'seen live').waitFor();

    // cut the page off and keep it off while the room goes on
    blocked = true;
    await sockets.at(-1).close({ code: 4001, reason: 'cut by the test' });
    const status = cy.page.getByTestId('connection-status');
    await eventually(async () => (await status.getAttribute('data-state')) === 'reconnecting', { message: 'reconnecting' });
    await dan.waitFor((e) => e.type === 'user_left' && e.name === 'cy');
    // more than the 5 a plain join would bring
    const missed = ['missed 1', 'missed 2', 'missed 3', 'missed 4', 'missed 5', 'missed 6', 'missed 7'];
    for (const text of missed) {
      assert.equal((await dan.request({ type: 'send', room: 'gap', text })).ok, true);
    }

    blocked = false;
    await eventually(async () => (await status.getAttribute('data-state')) === 'connected', {
      timeout: 30_000,
      message: 'connected again',
    });
    await entry(cy.page, 'missed 7').waitFor();
    assert.deepEqual(await texts(cy.page), ['seen live', ...missed], 'in order, nothing twice');

    // and it is back in the room for live messages
    assert.equal((await dan.request({ type: 'send', room: 'gap', text: 'live again' })).ok, true);
    await entry(cy.page, 'live again').waitFor();
    assert.deepEqual(await texts(cy.page), ['seen live', ...missed, 'live again']);
  });
});
