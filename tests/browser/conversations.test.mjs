// Conversations in the browser against a real chat-server: DMs opened by
// clicking a person and by /msg and /query, private to the two of them,
// listed again after a reload; /nick, /away and /back, /whois, /list and
// the room browser, /topic in the header, /help from the shared table, //
// for a literal slash, and unknown commands refused without sending.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { setHidden, spyOnNotifications } from './lib/notifications.mjs';
import { ProtocolClient, browserSuite, entry, eventually, joinAs, launchBrowser, sendFromPage, startServer, userList, waitForUsers } from './lib/harness.mjs';

// Types a line into the message field and sends it.
async function type(page, line) {
  await page.getByTestId('message-input').fill(line);
  await page.getByTestId('message-input').press('Enter');
}

const notice = (page, text) => page.getByTestId('messages').locator('li.notice', { hasText: text });
const title = (page) => page.getByTestId('room-title').textContent();

await browserSuite('conversations', ({ pw, WebSocket }) => {
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

  async function user(name, room) {
    const u = await joinAs(browser, server.url, name, room);
    open.push(u);
    return u;
  }

  async function client(name) {
    const c = await ProtocolClient.connect(WebSocket, server.url, name);
    open.push(c);
    return c;
  }

  test('a DM by clicking a person: only the two of them see it, it opens by itself and comes back after a reload', async () => {
    const ann = await user('ann', 'square');
    const bob = await user('bob', 'square');
    const cat = await user('cat', 'square');
    await waitForUsers(ann.page, ['ann', 'bob', 'cat']);
    // bob's tab is hidden: the DM raises a notification (permission asked then)
    await bob.context.grantPermissions(['notifications'], { origin: server.url });
    await bob.page.evaluate(spyOnNotifications);
    await bob.page.evaluate(setHidden, true);

    await ann.page.getByTestId('users').getByRole('button', { name: 'Write to bob alone' }).click();
    await eventually(async () => (await title(ann.page)) === 'bob', { message: 'the DM with bob shown' });
    await sendFromPage(ann.page, 'psst bob, just you');
    const key = await ann.page.getByTestId('dms').locator('li').first().getAttribute('data-room');
    assert.match(key, /^@u_[0-9a-f]+\+u_[0-9a-f]+$/);

    // bob's page lists it by itself, unread and marked, and opens it on a click
    const item = bob.page.getByTestId('dms').locator(`li[data-room="${key}"]`);
    await item.waitFor();
    assert.equal(await item.locator('.room-name').textContent(), 'ann');
    assert.equal(await item.locator('.badge').textContent(), '1');
    assert.match(await item.getAttribute('class'), /\bhas-mention\b/);
    assert.equal(await bob.page.title(), '(1) Chat');
    const notes = await eventually(async () => {
      const n = await bob.page.evaluate(() => globalThis.__notes);
      return n.length > 0 && n;
    }, { message: 'a notification of the DM' });
    assert.deepEqual(notes, [{ title: 'ann', body: 'ann: psst bob, just you' }]);
    assert.equal(await bob.page.evaluate(() => globalThis.__asked), 1);
    await bob.page.evaluate(setHidden, false);
    await item.locator('.room-link').click();
    await entry(bob.page, 'psst bob, just you').waitFor();
    await sendFromPage(bob.page, 'hi ann, only us');
    await entry(ann.page, 'hi ann, only us').waitFor();

    // cat, in the same room, sees nothing of it, and cannot ask for it
    assert.equal(await cat.page.getByTestId('dms').locator('li').count(), 0);
    assert.equal(await cat.page.getByText(/psst|only us/).count(), 0);
    const spy = await client('cat-tool');
    for (const req of [{ type: 'join', room: key }, { type: 'history', room: key, before: 100 }, { type: 'send', room: key, text: 'me too' }]) {
      const ack = await spy.request(req);
      assert.equal(ack.error?.code, 'not_found', `${req.type}: ${JSON.stringify(ack)}`);
    }

    // a reload of bob's page lists the DM again (welcome.dms); opening it shows the lines
    await bob.page.reload();
    await bob.page.getByTestId('message-input').waitFor({ state: 'visible' });
    const again = bob.page.getByTestId('dms').locator(`li[data-room="${key}"]`);
    await again.waitFor();
    await again.locator('.room-link').click();
    await entry(bob.page, 'psst bob, just you').waitFor();
    await entry(bob.page, 'hi ann, only us').waitFor();
    for (const u of [ann, bob, cat]) assert.deepEqual(u.problems, []);
  });

  test('/msg and /query open the DM; /nick is seen by the other; /away answers a DM; /back; /whois', async () => {
    const dee = await user('dee', 'porch');
    const eli = await user('eli', 'porch');
    await waitForUsers(dee.page, ['dee', 'eli']);

    await type(dee.page, '/msg eli are you there?');
    await eventually(async () => (await title(dee.page)) === 'eli', { message: '/msg opens the DM' });
    await entry(dee.page, 'are you there?').waitFor();
    const dm = eli.page.getByTestId('dms').locator('li');
    await dm.waitFor();
    await type(eli.page, '/query dee');
    await eventually(async () => (await title(eli.page)) === 'dee', { message: '/query opens the DM' });
    await entry(eli.page, 'are you there?').waitFor();

    // eli goes away: marked in dee's user list, and dee's DM gets the answer
    await type(eli.page, '/away lunch');
    await notice(eli.page, 'You are marked away: lunch').waitFor();
    await dee.page.getByTestId('rooms').locator('.room-link', { hasText: '#porch' }).click();
    const eliItem = dee.page.getByTestId('users').locator('li[data-user="eli"]');
    await eventually(async () => /\baway\b/.test(await eliItem.getAttribute('class')), { message: 'eli marked away' });
    assert.match(await eliItem.textContent(), /away: lunch/);
    await dee.page.getByTestId('dms').locator('.room-link').click();
    await sendFromPage(dee.page, 'lunch already?');
    await notice(dee.page, 'eli is away: lunch').waitFor();
    await type(eli.page, '/back');
    await notice(eli.page, 'You are back.').waitFor();
    await dee.page.getByTestId('rooms').locator('.room-link', { hasText: '#porch' }).click();
    await eventually(async () => !/\baway\b/.test(await eliItem.getAttribute('class')), { message: 'eli back' });

    // /whois
    await type(dee.page, '/whois eli');
    const whois = notice(dee.page, /^eli: online/);
    await whois.waitFor();
    assert.match(await whois.textContent(), /1 device, not away, shares #porch with you, known since/);
    await type(dee.page, '/whois nobody-here');
    await notice(dee.page, 'Nobody is called nobody-here').waitFor();

    // /nick: the other sees it in the room and the DM; old lines keep the old name
    await type(eli.page, '/nick elias');
    await notice(dee.page, 'eli is now known as elias').first().waitFor();
    await waitForUsers(dee.page, ['dee', 'elias']);
    assert.equal(await dee.page.getByTestId('dms').locator('.room-name').textContent(), 'elias');
    await eventually(async () => /elias/.test(await eli.page.getByTestId('connection-status').textContent()), { message: 'eli\'s status' });
    for (const u of [dee, eli]) assert.deepEqual(u.problems, []);
  });

  test('/list opens the room browser, a click joins; /topic is in the header and the room', async () => {
    const fay = await user('fay', 'garden');
    const gus = await user('gus', 'garden');
    const hal = await client('hal');
    await hal.join('attic');
    await hal.join('cellar');
    assert.equal((await hal.request({ type: 'topic', room: 'cellar', text: 'wine only' })).ok, true);

    await type(fay.page, '/list');
    const dir = fay.page.getByTestId('room-directory');
    const cellar = dir.locator('button[data-room="cellar"]');
    await cellar.waitFor();
    assert.match(await cellar.textContent(), /#cellar 1 person · wine only/);
    assert.match(await dir.locator('button[data-room="garden"]').textContent(), /2 people/);
    await cellar.click();
    await eventually(async () => (await title(fay.page)) === '#cellar', { message: 'the room joined' });
    assert.equal(await fay.page.getByTestId('room-topic').textContent(), 'wine only');
    await hal.waitFor((e) => e.type === 'user_joined' && e.room === 'cellar' && e.name === 'fay');

    // a topic set in the page: gus's header and both rooms' lines
    await fay.page.getByTestId('rooms').locator('.room-link', { hasText: '#garden' }).click();
    await type(fay.page, '/topic ship it <b>now</b>');
    await eventually(async () => (await gus.page.getByTestId('room-topic').textContent()) === 'ship it <b>now</b>', { message: 'gus sees the topic' });
    await notice(gus.page, 'fay set the topic: ship it <b>now</b>').waitFor();
    assert.equal(await gus.page.locator('b').count(), 0, 'the topic is text');
    await type(gus.page, '/topic');
    await notice(gus.page, 'The topic is: ship it <b>now</b>').waitFor();
    await type(fay.page, '/topic -delete');
    await eventually(async () => (await gus.page.getByTestId('room-topic').textContent()) === '', { message: 'the topic is cleared' });

    // Browse rooms does the same as /list
    await gus.page.getByTestId('browse-rooms').click();
    await gus.page.getByTestId('room-directory').locator('button[data-room="attic"]').click();
    await eventually(async () => (await title(gus.page)) === '#attic', { message: 'gus joined attic' });
    for (const u of [fay, gus]) assert.deepEqual(u.problems, []);
  });

  test('/help from the table, /me, // for a literal slash, and unknown commands never sent', async () => {
    const ivy = await user('ivy', 'desk');
    const jon = await client('jon');
    await jon.join('desk');

    await type(ivy.page, '/help');
    await notice(ivy.page, '/msg NAME TEXT: ').waitFor();
    await notice(ivy.page, '/whois NAME: ').waitFor();
    assert.equal(await notice(ivy.page, /^\/quit/).count(), 0, 'chat-tui\'s own commands are not offered');

    await type(ivy.page, '//etc/hosts is a file');
    const literal = await jon.waitFor((e) => e.type === 'message' && e.from === 'ivy');
    assert.equal(literal.text, '/etc/hosts is a file');
    await type(ivy.page, '/me waves');
    const action = await jon.waitFor((e) => e.type === 'message' && e.action);
    assert.equal(action.text, 'waves');

    const refusals = {};
    // (/nope would be close enough to /op for a suggestion)
    for (const line of ['/zzzzzz', '/topci x', '/quit']) {
      await type(ivy.page, line);
      const error = ivy.page.getByTestId('send-error');
      await eventually(async () => (await error.textContent()) !== '', { message: `${line} refused` });
      refusals[line] = await error.textContent();
      assert.equal(await ivy.page.getByTestId('message-input').inputValue(), line, 'kept in the field to fix');
      await ivy.page.getByTestId('message-input').fill('');
      await eventually(async () => (await error.textContent()) === '', { message: 'the refusal cleared by typing' });
    }
    assert.match(refusals['/zzzzzz'], /^Unknown command \/zzzzzz; \/help lists the commands/);
    assert.match(refusals['/topci x'], /did you mean \/topic\?/);
    assert.match(refusals['/quit'], /chat-tui command/);
    // a line after them arrives, and none of them did
    await type(ivy.page, 'after the refusals');
    await jon.waitFor((e) => e.type === 'message' && e.text === 'after the refusals');
    const texts = jon.events.filter((e) => e.type === 'message').map((e) => e.text);
    assert.deepEqual(texts, ['/etc/hosts is a file', 'waves', 'after the refusals']);
    assert.deepEqual(await userList(ivy.page), ['ivy', 'jon']);

    // /location, /join and /leave
    await type(ivy.page, '/location 51.5007, -0.1246');
    const loc = await jon.waitFor((e) => e.type === 'location' && e.from === 'ivy');
    assert.deepEqual([loc.latitude, loc.longitude], [51.5007, -0.1246]);
    await type(ivy.page, '/location 95 0');
    await notice(ivy.page, '/location takes a latitude').waitFor();
    await type(ivy.page, '/join #Side');
    await eventually(async () => (await title(ivy.page)) === '#side', { message: '/join' });
    await type(ivy.page, '/query jon');
    await eventually(async () => (await title(ivy.page)) === 'jon', { message: '/query' });
    await type(ivy.page, '/leave');
    await eventually(async () => (await ivy.page.getByTestId('dms').locator('li').count()) === 0, { message: '/leave closes the DM' });
    await type(ivy.page, '/leave side');
    await eventually(async () => (await ivy.page.getByTestId('rooms').locator('li').count()) === 1, { message: '/leave ROOM' });
    assert.equal(await title(ivy.page), '#desk');
    assert.equal((await jon.request({ type: 'send', room: 'desk', text: 'still here?' })).ok, true);
    await entry(ivy.page, 'still here?').waitFor();
    assert.equal(jon.events.some((e) => e.type === 'user_left' && e.room === 'desk'), false, 'ivy stayed in #desk');
    assert.deepEqual(ivy.problems, []);
  });

  test('an open DM resumes after a dropped connection with join and since: what was missed, once, in order', async () => {
    // The page's WebSocket goes through a relay the test can cut and block; it keeps what the page sent.
    let blocked = false;
    const sockets = [];
    const sent = [];
    const setup = (context) =>
      context.routeWebSocket(/\/ws$/, (ws) => {
        if (blocked) {
          ws.close({ code: 1011, reason: 'blocked by the test' });
          return;
        }
        sockets.push(ws);
        const upstream = ws.connectToServer();
        ws.onMessage((m) => {
          sent.push(JSON.parse(m));
          upstream.send(m);
        });
        upstream.onMessage((m) => ws.send(m));
        ws.onClose(() => upstream.close());
        upstream.onClose(() => ws.close());
      });
    const kim = await client('kim');
    const lee = await joinAs(browser, server.url, 'lee', 'hall', { setup });
    open.push(lee);
    await type(lee.page, '/query kim');
    await eventually(async () => (await title(lee.page)) === 'kim', { message: 'the DM open' });
    const key = await lee.page.getByTestId('dms').locator('li').first().getAttribute('data-room');
    assert.equal((await kim.request({ type: 'send', room: key, text: 'seen live' })).ok, true);
    await entry(lee.page, 'seen live').waitFor();

    blocked = true;
    await sockets.at(-1).close({ code: 4001, reason: 'cut by the test' });
    const status = lee.page.getByTestId('connection-status');
    await eventually(async () => (await status.getAttribute('data-state')) === 'reconnecting', { message: 'reconnecting' });
    const missed = ['missed 1', 'missed 2', 'missed 3'];
    for (const text of missed) assert.equal((await kim.request({ type: 'send', room: key, text })).ok, true);
    blocked = false;
    await entry(lee.page, 'missed 3').waitFor({ timeout: 30_000 });
    const shown = await lee.page.getByTestId('messages').locator('li.msg .text').allTextContents();
    assert.deepEqual(shown, ['seen live', ...missed], 'in order, nothing twice');
    const resume = sent.filter((f) => f.type === 'join' && f.room === key);
    assert.equal(resume.length, 1, 'one join of the DM, after the reconnect');
    assert.equal(typeof resume[0].since, 'number', `it resumes: ${JSON.stringify(resume[0])}`);
    assert.equal((await kim.request({ type: 'send', room: key, text: 'live again' })).ok, true);
    await entry(lee.page, 'live again').waitFor();
    assert.deepEqual(lee.problems, []);
  });

  test("a DM sent from another of your devices is listed under the other person's name, its line shown when opened", async () => {
    const max = await client('max');
    const nia = await user('nia', 'porch');
    const credential = await nia.page.evaluate(() => localStorage.getItem('chat.credential'));
    const phone = await ProtocolClient.connect(WebSocket, server.url, { credential });
    open.push(phone);
    const [a, b] = [phone.welcome.user.id, max.welcome.user.id].sort();
    const key = `@${a}+${b}`;
    assert.equal((await phone.request({ type: 'send', room: key, text: 'sent from my phone' })).ok, true);

    // the line names only nia: the page asks the server who the other one is
    const item = nia.page.getByTestId('dms').locator(`li[data-room="${key}"]`);
    await item.waitFor();
    await eventually(async () => (await item.locator('.room-name').textContent()) === 'max', { message: "listed as max, not by his id" });
    await item.locator('.room-link').click();
    await eventually(async () => (await title(nia.page)) === 'max', { message: 'the DM with max shown' });
    await entry(nia.page, 'sent from my phone').waitFor();
    assert.equal((await max.request({ type: 'send', room: key, text: 'got it' })).ok, true);
    await entry(nia.page, 'got it').waitFor();
    const shown = await nia.page.getByTestId('messages').locator('li.msg .text').allTextContents();
    assert.deepEqual(shown, ['sent from my phone', 'got it'], 'each line once, in order');
    assert.deepEqual(nia.problems, []);
  });
});
