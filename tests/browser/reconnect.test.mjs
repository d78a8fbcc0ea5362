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
  names,
  openPage,
  restartServer,
  sendFromPage,
  startServer,
  waitForUsers,
} from './lib/harness.mjs';

// Bounded by the page's longest backoff step (30 s, as the outbox rulebook
// says) plus slack; the servers here are down for a second or two, so the
// steps stay short.
const RECONNECT_MS = 45_000;

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
    assert.deepEqual(names(lobby.users), ['ann', 'bob']);
    await bob.join('ops');
    const ops = await bob.waitFor((e) => e.type === 'room_state' && e.room === 'ops');
    assert.deepEqual(names(ops.users), ['ann', 'bob']);
    await waitForUsers(ann.page, ['ann', 'bob']);

    // and messages flow both ways
    assert.equal((await bob.request({ type: 'send', room: 'lobby', text: 'welcome back' })).ok, true);
    await entry(ann.page, 'welcome back').waitFor();
    await sendFromPage(ann.page, 'glad to be back');
    await bob.waitFor((e) => e.type === 'message' && e.text === 'glad to be back' && e.from === 'ann');
  });

  test('a message sent while the server is down is delivered once after the reconnect', async () => {
    const cy = await joinAs(browser, server.url, 'cy', 'quiet');
    open.push(cy);
    const dot = await joinAs(browser, server.url, 'dot', 'quiet');
    open.push(dot);
    await waitForUsers(cy.page, ['cy', 'dot']);
    await server.stop();
    await eventually(async () => (await status(cy.page)).state === 'reconnecting', { message: 'reconnecting state' });
    const input = cy.page.getByTestId('message-input');
    await input.fill('are you there?');
    await input.press('Enter');
    const mine = entry(cy.page, 'are you there?');
    await mine.waitFor();
    assert.match(await mine.getAttribute('class'), /\bpending\b/, 'pending while the server is down');
    assert.equal(await input.inputValue(), '', 'the message is in the list, not the field');

    server = await restartServer(server);
    await eventually(async () => (await status(cy.page)).state === 'connected', { timeout: RECONNECT_MS, message: 'connected again' });
    await eventually(async () => /\bsent\b/.test(await mine.getAttribute('class')), { message: 'sent after the reconnect' });
    await entry(dot.page, 'are you there?').waitFor();
    // a later message from cy arrives after any second copy would have
    await sendFromPage(cy.page, 'after the restart');
    await entry(dot.page, 'after the restart').waitFor();
    assert.equal(await entry(dot.page, 'are you there?').count(), 1, 'the other user sees it once');
    assert.equal(await mine.count(), 1, 'the sender sees it once');

    // and the store holds it once
    const eli = await ProtocolClient.connect(WebSocket, server.url, 'eli');
    open.push(eli);
    await eli.join('quiet');
    const history = await eli.waitFor((e) => e.type === 'history' && e.room === 'quiet');
    assert.equal(history.events.filter((e) => e.text === 'are you there?').length, 1);
    // Chromium itself logs each reconnection attempt that found the server
    // still down; the page reports nothing else.
    const refused = /^console error: WebSocket connection to .* failed: .*ERR_CONNECTION_REFUSED/;
    assert.deepEqual(cy.problems.filter((p) => !refused.test(p)), []);
  });

  test('a message whose ack was lost with the connection is resent under its id and stored once', async () => {
    // The page's WebSocket goes through a relay that the test can cut. While
    // `losing`, the page hears nothing about its sends: no ack, no echo, and
    // the resumed history after the reconnect leaves them out too, so only a
    // resend can settle them.
    let losing = false;
    const hidden = new Set(); // ids of sends the page must not hear about
    const sockets = [];
    const sends = [];
    const setup = (context) =>
      context.routeWebSocket(/\/ws$/, (ws) => {
        sockets.push(ws);
        const upstream = ws.connectToServer();
        ws.onMessage((m) => {
          const ev = JSON.parse(m);
          if (ev.type === 'send') sends.push(ev);
          if (ev.type === 'send' && losing) hidden.add(ev.id);
          upstream.send(m);
        });
        upstream.onMessage((m) => {
          const ev = JSON.parse(m);
          if (ev.type === 'ack' && losing && hidden.has(ev.id)) return;
          if (ev.type === 'message' && hidden.has(ev.id)) return;
          if (ev.type === 'history') ev.events = ev.events.filter((e) => !hidden.has(e.id));
          ws.send(JSON.stringify(ev));
        });
        ws.onClose(() => upstream.close());
        upstream.onClose(() => ws.close());
      });
    const fox = await joinAs(browser, server.url, 'fox', 'acks', { setup });
    open.push(fox);
    const gil = await ProtocolClient.connect(WebSocket, server.url, 'gil');
    open.push(gil);
    await gil.join('acks');
    await waitForUsers(fox.page, ['fox', 'gil']);

    losing = true;
    await fox.page.getByTestId('message-input').fill('said once');
    await fox.page.getByTestId('message-input').press('Enter');
    // stored and broadcast, but the page never hears of it
    await gil.waitFor((e) => e.type === 'message' && e.text === 'said once');
    const mine = entry(fox.page, 'said once');
    assert.match(await mine.getAttribute('class'), /\bpending\b/);

    losing = false;
    await sockets.at(-1).close({ code: 4001, reason: 'cut by the test' });
    await eventually(async () => /\bsent\b/.test(await mine.getAttribute('class')), {
      timeout: RECONNECT_MS,
      message: 'sent after the reconnect',
    });
    assert.equal(sends.length, 2, 'sent again after the reconnect');
    assert.equal(sends[1].id, sends[0].id, 'under the same request id');
    // a round trip, so a second copy would have arrived by now
    assert.equal((await gil.request({ type: 'send', room: 'acks', text: 'over' })).ok, true);
    await entry(fox.page, 'over').waitFor();
    assert.equal(gil.events.filter((e) => e.type === 'message' && e.text === 'said once').length, 1, 'broadcast once');
    assert.equal(await mine.count(), 1, 'shown once');
    assert.deepEqual(fox.problems, []);
  });

  test('a message stored before the connection dropped is settled by the resumed history, not sent again', async () => {
    // As above, but the resumed history passes: it shows the page that the
    // server has the message.
    let losing = false;
    const sockets = [];
    const sends = [];
    const setup = (context) =>
      context.routeWebSocket(/\/ws$/, (ws) => {
        sockets.push(ws);
        const upstream = ws.connectToServer();
        ws.onMessage((m) => {
          const ev = JSON.parse(m);
          if (ev.type === 'send') sends.push(ev);
          upstream.send(m);
        });
        upstream.onMessage((m) => {
          const ev = JSON.parse(m);
          const mine = sends.some((s) => s.id === ev.id);
          if (!(losing && mine && (ev.type === 'ack' || ev.type === 'message'))) ws.send(m);
        });
        ws.onClose(() => upstream.close());
        upstream.onClose(() => ws.close());
      });
    const hal = await joinAs(browser, server.url, 'hal', 'resume', { setup });
    open.push(hal);
    const ida = await ProtocolClient.connect(WebSocket, server.url, 'ida');
    open.push(ida);
    await ida.join('resume');
    await waitForUsers(hal.page, ['hal', 'ida']);

    losing = true;
    await hal.page.getByTestId('message-input').fill('in the history');
    await hal.page.getByTestId('message-input').press('Enter');
    await ida.waitFor((e) => e.type === 'message' && e.text === 'in the history');
    const mine = entry(hal.page, 'in the history');
    assert.match(await mine.getAttribute('class'), /\bpending\b/);

    losing = false;
    await sockets.at(-1).close({ code: 4001, reason: 'cut by the test' });
    await eventually(async () => /\bsent\b/.test(await mine.getAttribute('class')), {
      timeout: RECONNECT_MS,
      message: 'settled by the resumed history',
    });
    assert.equal(sends.length, 1, 'not sent again');
    assert.equal(await mine.count(), 1, 'shown once');
    assert.notEqual(await mine.getAttribute('data-seq'), null, 'with its place in the room');
    assert.deepEqual(hal.problems, []);
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
