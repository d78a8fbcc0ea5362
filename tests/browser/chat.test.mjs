// Chatting in the browser against a real chat-server: two browser users, a
// browser user next to a protocol client, presence, rooms, errors and safety.

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
  sendFromPage,
  startServer,
  userList,
  waitForUsers,
} from './lib/harness.mjs';

const TIME_RE = /^(1[0-2]|[1-9]):[0-5]\d (AM|PM)$/;

await browserSuite('chatting in the browser', ({ pw, WebSocket }) => {
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

  async function user(name, room, options) {
    const u = await joinAs(browser, server.url, name, room, options);
    open.push(u);
    return u;
  }

  async function protocolClient(name) {
    const c = await ProtocolClient.connect(WebSocket, server.url, name);
    open.push(c);
    return c;
  }

  test('two browser users chat in a room', async () => {
    const ann = await user('ann', 'lobby');
    const bob = await user('bob', 'lobby');
    await waitForUsers(ann.page, ['ann', 'bob']);
    await waitForUsers(bob.page, ['ann', 'bob']);

    await sendFromPage(ann.page, 'hello bob, how are things?');
    const seen = entry(bob.page, 'hello bob, how are things?');
    await seen.waitFor();
    assert.equal(await seen.locator('.from').textContent(), 'ann');
    assert.match(await seen.locator('time').textContent(), TIME_RE);
    assert.equal(await ann.page.getByTestId('message-input').inputValue(), '', 'the field is cleared once sent');

    // bob answers with the send button and mentions ann
    await bob.page.getByTestId('message-input').fill('fine thanks @ann');
    await bob.page.getByTestId('send').click();
    const reply = entry(ann.page, 'fine thanks');
    await reply.waitFor();
    assert.equal(await reply.locator('.from').textContent(), 'bob');
    assert.equal(await reply.locator('mark').textContent(), '@ann', 'the mention is highlighted');
    assert.match(await reply.getAttribute('class'), /\bmentioned\b/);
    // bob's own copy mentions someone else, not bob
    assert.equal(await entry(bob.page, 'fine thanks').locator('mark').count(), 0);

    // the join of bob was a notice on ann's page, styled as one
    const notice = ann.page.getByTestId('messages').locator('li.notice', { hasText: 'bob joined' });
    await notice.waitFor();

    // new messages are announced to screen readers
    await eventually(async () => (await ann.page.locator('[aria-live] p').allTextContents()).includes('bob: fine thanks @ann'), {
      message: 'the live region to announce the message',
    });

    assert.deepEqual(ann.problems, []);
    assert.deepEqual(bob.problems, []);
  });

  test('a browser user and a protocol client see each other', async () => {
    const carl = await protocolClient('carl');
    await carl.join('mixed');
    const dana = await user('dana', 'mixed');
    await carl.waitFor((e) => e.type === 'user_joined' && e.room === 'mixed' && e.name === 'dana');
    await waitForUsers(dana.page, ['carl', 'dana']);

    await sendFromPage(dana.page, 'hi from the browser');
    const msg = await carl.waitFor((e) => e.type === 'message' && e.text === 'hi from the browser');
    assert.equal(msg.from, 'dana');
    assert.equal(msg.room, 'mixed');

    assert.equal((await carl.request({ type: 'send', room: 'mixed', text: 'hi from the terminal' })).ok, true);
    const got = entry(dana.page, 'hi from the terminal');
    await got.waitFor();
    assert.equal(await got.locator('.from').textContent(), 'carl');

    assert.equal((await carl.request({ type: 'send', room: 'mixed', text: 'waves', action: true })).ok, true);
    await dana.page.getByTestId('messages').locator('li.action', { hasText: '* carl waves' }).waitFor();

    // carl leaves: dana sees a notice and the list shrinks
    assert.equal((await carl.request({ type: 'leave', room: 'mixed' })).ok, true);
    await dana.page.getByTestId('messages').locator('li.notice', { hasText: 'carl left' }).waitFor();
    await waitForUsers(dana.page, ['dana']);

    // and comes back
    await carl.join('mixed');
    await dana.page.getByTestId('messages').locator('li.notice', { hasText: 'carl joined' }).last().waitFor();
    await waitForUsers(dana.page, ['dana', 'carl']);

    // dana leaves by closing the page: carl is told
    await dana.close();
    const left = await carl.waitFor((e) => e.type === 'user_left' && e.room === 'mixed' && e.name === 'dana');
    assert.equal(typeof left.ts, 'number');
  });

  test('the user list updates when someone leaves', async () => {
    const eve = await user('eve', 'presence');
    const fay = await user('fay', 'presence');
    const gus = await user('gus', 'presence');
    await waitForUsers(eve.page, ['eve', 'fay', 'gus']);

    // fay leaves with the Leave button; she is back on the join page
    await fay.page.getByRole('button', { name: 'Leave #presence' }).click();
    await fay.page.getByTestId('join-submit').waitFor({ state: 'visible' });
    await waitForUsers(eve.page, ['eve', 'gus']);
    await waitForUsers(gus.page, ['eve', 'gus']);

    // gus closes his tab
    await gus.close();
    await waitForUsers(eve.page, ['eve']);
    assert.match(await eve.page.getByTestId('users').textContent(), /eve \(you\)/);
  });

  test('HTML in messages and names is shown as text and runs nothing', async () => {
    // bypassCSP: the page itself must not run the payload, whatever the
    // server's Content-Security-Policy would have blocked.
    const payload = '<img src=x onerror="window.__pwned=1;document.title=\'pwned\'">';
    const nameHtml = '<b>hal</b>';
    const ivy = await user('ivy', 'xss', { bypassCSP: true });
    const hal = await protocolClient(nameHtml);
    await hal.join('xss');
    assert.equal((await hal.request({ type: 'send', room: 'xss', text: payload })).ok, true);
    assert.equal((await hal.request({ type: 'send', room: 'xss', text: `${payload} hi ivy` })).ok, true);
    const shown = entry(ivy.page, 'hi ivy');
    await shown.waitFor();
    assert.equal(await shown.locator('.text').textContent(), `${payload} hi ivy`);
    assert.equal(await shown.locator('.from').textContent(), nameHtml);

    // the browser user sends it too, through the field
    await sendFromPage(ivy.page, `${payload} from ivy`);
    await hal.waitFor((e) => e.type === 'message' && e.text === `${payload} from ivy`);

    // a round trip after the payload, so a broken image would have failed by now
    assert.equal((await hal.request({ type: 'send', room: 'xss', text: 'last' })).ok, true);
    await entry(ivy.page, 'last').waitFor();
    await ivy.page.evaluate(() => fetch('/x').catch(() => null));

    assert.equal(await ivy.page.getByTestId('messages').locator('img').count(), 0, 'no <img> element in messages');
    assert.equal(await ivy.page.locator('b').count(), 0, 'no <b> element from a name');
    assert.equal(await ivy.page.evaluate(() => window.__pwned), undefined, 'onerror never ran');
    assert.notEqual(await ivy.page.title(), 'pwned');
    assert.deepEqual(await userList(ivy.page), ['ivy', nameHtml]);
  });

  test('join page: pre-filled from the query, inline errors, no alerts', async () => {
    const joe = await user('joe', 'taken');

    const page = await openPage(browser, `${server.url}/?username=JOE&room=taken`);
    open.push(page);
    assert.equal(await page.page.getByTestId('join-name').inputValue(), 'JOE');
    assert.equal(await page.page.getByTestId('join-room').inputValue(), 'taken');
    await page.page.getByTestId('join-submit').click();
    const error = page.page.getByTestId('join-error');
    // JOE is joe's name (names compare by their confusable skeleton): it says how to sign in here
    await eventually(async () => /belongs to someone.*\/link.*I have a code/.test(await error.textContent()), { message: 'name claimed error' });
    assert.equal(await page.page.getByTestId('join-submit').isVisible(), true, 'still on the join page');

    // a different name works, from the same page
    await page.page.getByTestId('join-name').fill('kim');
    await page.page.getByTestId('join-submit').click();
    await page.page.getByTestId('message-input').waitFor({ state: 'visible' });
    await waitForUsers(joe.page, ['joe', 'kim']);
    assert.match(page.page.url(), /username=kim&room=taken/);

    // invalid names and rooms are refused inline
    const bad = await openPage(browser, `${server.url}/`);
    open.push(bad);
    await bad.page.getByTestId('join-name').fill('a'.repeat(33));
    await bad.page.getByTestId('join-room').fill('ok');
    await bad.page.getByTestId('join-submit').click();
    await eventually(async () => /at most 32 characters/.test(await bad.page.getByTestId('join-error').textContent()), {
      message: 'name too long error',
    });
    await bad.page.getByTestId('join-name').fill('zoe\u200b');
    await bad.page.getByTestId('join-submit').click();
    await eventually(async () => /invisible/.test(await bad.page.getByTestId('join-error').textContent()), {
      message: 'invisible character error',
    });
    await bad.page.getByTestId('join-name').fill('zoe');
    await bad.page.getByTestId('join-room').fill('no spaces');
    await bad.page.getByTestId('join-submit').click();
    await eventually(async () => /room name may only use/i.test(await bad.page.getByTestId('join-error').textContent()), {
      message: 'invalid room error',
    });
    // "#Dev" is what people type; it means the room "dev"
    await bad.page.getByTestId('join-room').fill(' #Dev ');
    await bad.page.getByTestId('join-submit').click();
    await bad.page.getByTestId('message-input').waitFor({ state: 'visible' });
    assert.equal(await bad.page.locator('#room-title').textContent(), '#dev');

    assert.deepEqual(page.problems, []);
    assert.deepEqual(bad.problems, []);
  });

  test('a refused message shows the server error and keeps the text', async () => {
    const lea = await user('lea', 'limits');
    const long = 'x'.repeat(4001);
    await lea.page.getByTestId('message-input').fill(long);
    await lea.page.getByTestId('send').click();
    await eventually(async () => /at most 4000 characters/.test(await lea.page.getByTestId('send-error').textContent()), {
      message: 'too long error',
    });
    assert.equal(await lea.page.getByTestId('message-input').inputValue(), long, 'the text is back in the field');
    // and the list says it failed, and why
    const failed = entry(lea.page, long);
    assert.match(await failed.getAttribute('class'), /\bfailed\b/);
    assert.match(await failed.locator('.state').textContent(), /not sent: .*at most 4000 characters/i);
    // fixing it sends it, clears the error and replaces the failed entry
    await lea.page.getByTestId('message-input').fill('short enough');
    await lea.page.getByTestId('message-input').press('Enter');
    await eventually(async () => /\bsent\b/.test(await entry(lea.page, 'short enough').getAttribute('class')), { message: 'sent' });
    assert.equal(await lea.page.getByTestId('send-error').textContent(), '');
    assert.equal(await failed.count(), 0);

    // Edit on a failed message puts its text back in the field
    await lea.page.getByTestId('message-input').fill(`${long}y`);
    await lea.page.getByTestId('message-input').press('Enter');
    const again = entry(lea.page, `${long}y`);
    await eventually(async () => /\bfailed\b/.test(await again.getAttribute('class')), { message: 'failed again' });
    await lea.page.getByTestId('message-input').fill('');
    await again.getByRole('button', { name: 'Edit' }).click();
    assert.equal(await lea.page.getByTestId('message-input').inputValue(), `${long}y`);
    assert.equal(await again.count(), 0, 'the entry went back into the field');
  });

  test('a message is pending until acknowledged or echoed, then sent, and shown once', async () => {
    // The page's WebSocket goes through a relay that holds back the ack (and,
    // while holdEcho, the echo) of the text `holdText`.
    let holdText = null;
    let holdEcho = true;
    const held = [];
    const texts = new Map(); // request id -> text
    let toPage;
    const setup = (context) =>
      context.routeWebSocket(/\/ws$/, (ws) => {
        const upstream = ws.connectToServer();
        toPage = (ev) => ws.send(JSON.stringify(ev));
        ws.onMessage((m) => {
          const ev = JSON.parse(m);
          if (ev.type === 'send') texts.set(ev.id, ev.text);
          upstream.send(m);
        });
        upstream.onMessage((m) => {
          const ev = JSON.parse(m);
          const text = ev.type === 'ack' ? texts.get(ev.id) : ev.type === 'message' ? ev.text : undefined;
          if (text === holdText && (ev.type === 'ack' || holdEcho)) held.push(ev);
          else ws.send(m);
        });
      });
    const rex = await user('rex', 'pending', { setup });
    const zed = await protocolClient('zed');
    await zed.join('pending');
    await waitForUsers(rex.page, ['rex', 'zed']);
    const input = rex.page.getByTestId('message-input');
    // A message from zed, seen on the page: everything the relay passed on before it was handled.
    let marks = 0;
    const roundTrip = async () => {
      const text = `marker ${++marks}`;
      assert.equal((await zed.request({ type: 'send', room: 'pending', text })).ok, true);
      await entry(rex.page, text).waitFor();
    };

    // Neither ack nor echo: pending, and the page stays usable.
    holdText = 'wait for it';
    await input.fill('wait for it');
    await input.press('Enter');
    await eventually(async () => held.length === 2, { message: 'the ack and the echo held' });
    const mine = entry(rex.page, 'wait for it');
    assert.match(await mine.getAttribute('class'), /\bpending\b/);
    assert.match(await mine.locator('.state').textContent(), /sending/i, 'the state is spelled out');
    assert.equal(await input.inputValue(), '', 'the field is cleared at once');
    assert.equal(await input.isEditable(), true, 'the user can type on');
    assert.equal(await rex.page.getByTestId('send').isEnabled(), true);

    // The ack settles it; the echo that follows is not shown a second time.
    toPage(held.shift());
    await eventually(async () => /\bsent\b/.test(await mine.getAttribute('class')), { message: 'the entry to be marked sent' });
    assert.doesNotMatch(await mine.getAttribute('class'), /\bpending\b/);
    assert.equal(await mine.locator('.state').textContent(), 'Sent');
    toPage(held.shift());
    await roundTrip();
    assert.equal(await mine.count(), 1, 'sent exactly once');
    assert.notEqual(await mine.getAttribute('data-seq'), null);

    // The echo alone settles a message too (its ack is late): the server has it.
    holdText = 'echo first';
    holdEcho = false;
    await input.fill('echo first');
    await input.press('Enter');
    await eventually(async () => held.length === 1, { message: 'the ack held' });
    const early = entry(rex.page, 'echo first');
    await eventually(async () => /\bsent\b/.test(await early.getAttribute('class')), { message: 'sent by its echo' });
    assert.equal(await early.locator('.state').textContent(), 'Sent');
    toPage(held.shift());
    await roundTrip();
    assert.equal(await early.count(), 1);
    assert.match(await early.getAttribute('class'), /\bsent\b/);
    assert.deepEqual(rex.problems, []);
  });

  // A relay that answers the first `send` itself with `code` (as a server
  // would that refused it) instead of passing it on; `sends` records them all.
  function refuseFirstSend(code, message, sends) {
    return (context) =>
      context.routeWebSocket(/\/ws$/, (ws) => {
        const upstream = ws.connectToServer();
        ws.onMessage((m) => {
          const ev = JSON.parse(m);
          if (ev.type === 'send') sends.push(ev);
          if (ev.type === 'send' && sends.length === 1) {
            ws.send(JSON.stringify({ type: 'ack', id: ev.id, ok: false, error: { code, message } }));
          } else {
            upstream.send(m);
          }
        });
        upstream.onMessage((m) => ws.send(m));
      });
  }

  test('a refused message can be sent again with Retry', async () => {
    const sends = [];
    const sam = await user('sam', 'retry', { setup: refuseFirstSend('internal', 'the message could not be stored; resend it', sends) });
    const tom = await protocolClient('tom');
    await tom.join('retry');
    await waitForUsers(sam.page, ['sam', 'tom']);

    await sam.page.getByTestId('message-input').fill('second time lucky');
    await sam.page.getByTestId('message-input').press('Enter');
    const mine = entry(sam.page, 'second time lucky');
    await eventually(async () => /\bfailed\b/.test(await mine.getAttribute('class')), { message: 'the entry to be marked failed' });
    assert.match(await mine.locator('.state').textContent(), /not sent: the message could not be stored/i, 'with the reason');
    assert.match(await sam.page.getByTestId('send-error').textContent(), /could not be stored/);
    assert.equal(sends.length, 1, 'nothing is resent behind the user\'s back');

    await mine.getByRole('button', { name: 'Retry' }).click();
    await eventually(async () => /\bsent\b/.test(await mine.getAttribute('class')), { message: 'the retry to be acknowledged' });
    assert.equal(sends[1].id, sends[0].id, 'the retry has the same request id');
    await tom.waitFor((e) => e.type === 'message' && e.text === 'second time lucky');
    // a round trip, so a second copy would have arrived by now
    assert.equal((await tom.request({ type: 'send', room: 'retry', text: 'got it' })).ok, true);
    await entry(sam.page, 'got it').waitFor();
    assert.equal(tom.events.filter((e) => e.type === 'message' && e.text === 'second time lucky').length, 1);
    assert.equal(await mine.count(), 1);
    assert.deepEqual(sam.problems, []);
  });

  test('a message the server could not take for now (unavailable) is resent by itself', async () => {
    const sends = [];
    const una = await user('una', 'later', { setup: refuseFirstSend('unavailable', 'the shared store cannot be reached', sends) });
    const vic = await protocolClient('vic');
    await vic.join('later');
    await waitForUsers(una.page, ['una', 'vic']);
    // remember whether any entry was ever marked failed
    await una.page.evaluate(() => {
      window.__everFailed = false;
      new MutationObserver(() => {
        if (document.querySelector('[data-testid="messages"] li.failed')) window.__everFailed = true;
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] });
    });

    await sendFromPage(una.page, 'when you can');
    const mine = entry(una.page, 'when you can');
    await eventually(async () => /\bsent\b/.test(await mine.getAttribute('class')), { message: 'sent after the backoff' });
    assert.equal(sends.length, 2, 'sent twice: refused, then resent after the backoff');
    assert.equal(sends[1].id, sends[0].id, 'under the same request id');
    await vic.waitFor((e) => e.type === 'message' && e.text === 'when you can');
    assert.equal((await vic.request({ type: 'send', room: 'later', text: 'thanks' })).ok, true);
    await entry(una.page, 'thanks').waitFor();
    assert.equal(vic.events.filter((e) => e.type === 'message' && e.text === 'when you can').length, 1, 'stored once');
    assert.equal(await una.page.evaluate(() => window.__everFailed), false, 'never shown as failed');
    assert.deepEqual(una.problems, []);
  });

  test('joining and leaving other rooms, with unread counts', async () => {
    const max = await user('max', 'one');
    const ned = await protocolClient('ned');
    await ned.join('one');
    await ned.join('two');
    await waitForUsers(max.page, ['max', 'ned']);

    // join a second room from the sidebar
    await max.page.getByTestId('room-input').fill('two');
    await max.page.getByTestId('room-input').press('Enter');
    await eventually(async () => (await max.page.locator('#room-title').textContent()) === '#two', { message: 'room two shown' });
    await waitForUsers(max.page, ['ned', 'max']);
    const rooms = max.page.getByTestId('rooms');
    assert.deepEqual(await rooms.locator('.room-name').allTextContents(), ['#one', '#two']);

    // messages in the room not shown count as unread
    assert.equal((await ned.request({ type: 'send', room: 'one', text: 'first in one' })).ok, true);
    assert.equal((await ned.request({ type: 'send', room: 'one', text: 'second in one, max' })).ok, true);
    const badge = rooms.locator('li', { hasText: '#one' }).locator('.badge');
    await eventually(async () => (await badge.textContent()) === '2' && (await badge.isVisible()), { message: 'unread badge 2' });
    assert.equal(await entry(max.page, 'first in one').count(), 0, 'not shown in room two');

    // switching shows them and clears the count
    await rooms.getByRole('button', { name: /^#one/ }).click();
    await entry(max.page, 'first in one').waitFor();
    await entry(max.page, 'second in one').waitFor();
    assert.equal(await badge.isVisible(), false);
    await waitForUsers(max.page, ['max', 'ned']);

    // leave room two from the sidebar: ned is told, the room goes away
    await rooms.getByRole('button', { name: 'Leave #two' }).click();
    await ned.waitFor((e) => e.type === 'user_left' && e.room === 'two' && e.name === 'max');
    await eventually(async () => (await rooms.locator('.room-name').allTextContents()).join() === '#one', {
      message: 'only #one left in the sidebar',
    });

    // an invalid room is refused inline
    await max.page.getByTestId('room-input').fill('Not A Room!');
    await max.page.getByTestId('room-input').press('Enter');
    await eventually(async () => /room name/i.test(await max.page.getByTestId('room-error').textContent()), {
      message: 'room error',
    });
  });

  test('autoscroll only at the bottom, otherwise a new messages button', async () => {
    const ola = await user('ola', 'scroll');
    const pia = await protocolClient('pia');
    await pia.join('scroll');
    // enough to scroll, within the server's burst of 30 requests
    for (let i = 1; i <= 20; i++) {
      assert.equal((await pia.request({ type: 'send', room: 'scroll', text: `line ${i}\nsecond line\nthird line` })).ok, true);
    }
    await entry(ola.page, 'line 20').waitFor();
    const messages = ola.page.getByTestId('messages');
    assert.ok(await messages.evaluate((m) => m.scrollHeight > 2 * m.clientHeight), 'the list overflows');
    const atBottom = () => messages.evaluate((m) => m.scrollHeight - m.scrollTop - m.clientHeight < 2);
    assert.equal(await atBottom(), true, 'follows new messages while at the bottom');

    // scroll up: new messages no longer move the view
    await messages.evaluate((m) => {
      m.scrollTop = 0;
    });
    assert.equal((await pia.request({ type: 'send', room: 'scroll', text: 'while reading' })).ok, true);
    await entry(ola.page, 'while reading').waitFor({ state: 'attached' });
    const button = ola.page.getByTestId('new-messages');
    await button.waitFor({ state: 'visible' });
    assert.equal(await messages.evaluate((m) => m.scrollTop), 0, 'the view stayed where the reader was');

    await button.click();
    assert.equal(await atBottom(), true);
    await button.waitFor({ state: 'hidden' });
  });

  test('keyboard alone, labelled fields, and a phone-width screen', async () => {
    const q = new URLSearchParams({ username: 'uma', room: 'keys' });
    const uma = await openPage(browser, `${server.url}/?${q}`, { viewport: { width: 390, height: 760 } });
    open.push(uma);
    const { page } = uma;
    // every field has a label
    for (const label of ['Display name', 'Room']) await page.getByLabel(label, { exact: true }).waitFor();
    // the filled-in form is ready to submit with Enter
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'join-submit');
    await page.keyboard.press('Enter');
    await page.getByTestId('message-input').waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'message-input', 'focus goes to the field');
    for (const label of ['Message', 'Join another room']) assert.equal(await page.getByLabel(label, { exact: true }).count(), 1, label);
    await page.keyboard.type('typed with keys');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('second line');
    await page.keyboard.press('Enter');
    const sent = entry(page, 'typed with keys');
    await sent.waitFor();
    assert.equal(await sent.locator('.text').textContent(), 'typed with keys\nsecond line');
    assert.equal(await page.locator('[aria-live]').count() >= 1, true, 'a live region exists');

    // nothing is wider than the phone, and the sidebar folds behind a button
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, 'no sideways scrolling');
    assert.equal(await page.getByTestId('users').isVisible(), false);
    const toggle = page.getByRole('button', { name: /Rooms & people/ });
    await toggle.focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('users').waitFor({ state: 'visible' });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    await waitForUsers(page, ['uma']);
    await page.keyboard.press('Enter');
    await page.getByTestId('message-input').waitFor({ state: 'visible' });
    assert.deepEqual(uma.problems, []);
  });

  test('the page is small, local and served with a strict CSP', async () => {
    const res = await fetch(`${server.url}/`);
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') || '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /style-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const html = await res.text();
    assert.doesNotMatch(html, /\sstyle=|<script>|<style>|https?:\/\//, 'no inline code and no other origins');

    // Everything the browser loads for the page, counted as it arrives: the
    // HTML, every module app.js imports (however many there are), the
    // stylesheet, the icon and the command table. Plain modules, no
    // framework: the budget has room for the shared rules (validation, map
    // links, mentions, the outbox rulebook, the command table) and the
    // page's features, not for a library. It was 96 KiB until
    // conversations (DMs, the commands both clients share, the room
    // directory, topics, away, notifications) made it 128 KiB, and until
    // moderation (fourteen commands in the shared table, its rules, the
    // person's menu, roles and modes) made it 160 KiB.
    const loaded = new Map(); // path -> bytes
    const bodies = [];
    const setup = (context) =>
      context.on('response', (r) => bodies.push(r.body().then((b) => [r.url(), r.status(), b.length])));
    const visit = await openPage(browser, `${server.url}/`, { setup });
    open.push(visit);
    await eventually(async () => (await visit.page.evaluate(() => document.activeElement?.dataset.testid)) === 'join-name', {
      message: 'the page to be ready',
    });
    for (const [url, status, bytes] of await Promise.all(bodies)) {
      assert.equal(new URL(url).origin, server.url, `${url}: nothing from other origins`);
      assert.equal(status, 200, url);
      loaded.set(new URL(url).pathname, bytes);
    }
    if (!loaded.has('/favicon.svg')) {
      const icon = await fetch(`${server.url}/favicon.svg`);
      loaded.set('/favicon.svg', (await icon.arrayBuffer()).byteLength);
    }
    for (const path of ['/', '/app.js', '/protocol.js', '/outbox.js', '/style.css', '/commands.json']) assert.ok(loaded.has(path), `${path} is loaded`);
    const total = [...loaded.values()].reduce((a, b) => a + b, 0);
    assert.ok(total < 160 * 1024, `the page is ${total} bytes in ${loaded.size} files: ${[...loaded.keys()].join(' ')}`);
    assert.deepEqual(visit.problems, [], 'every module loads under the CSP');
  });
});
