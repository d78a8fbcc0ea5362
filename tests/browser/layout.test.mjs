// The page's dense layout and its notifications: lines of one person under
// one header (checked by counting, and by a screenshot kept in the test's
// temporary directory to look at), "Sent" only while it is news, a
// notification for a mention while the tab is hidden (permission asked at
// that mention, not on load), the unread count in the title, and 390 px.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { setHidden, spyOnNotifications } from './lib/notifications.mjs';
import { ProtocolClient, browserSuite, entry, eventually, joinAs, launchBrowser, sendFromPage, startServer } from './lib/harness.mjs';

await browserSuite('layout and notifications', ({ pw, WebSocket }) => {
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

  async function client(name) {
    const c = await ProtocolClient.connect(WebSocket, server.url, name);
    open.push(c);
    return c;
  }

  test('consecutive lines of one person share one header; "Sent" only while it is news', async () => {
    const lou = await user('lou', 'dense');
    const mo = await client('mo');
    await mo.join('dense');
    for (const text of ['one', 'two', 'three']) assert.equal((await mo.request({ type: 'send', room: 'dense', text: `mo ${text}` })).ok, true);
    for (const text of ['four', 'five']) await sendFromPage(lou.page, `lou ${text}`);
    assert.equal((await mo.request({ type: 'send', room: 'dense', text: 'mo six', action: true })).ok, true);
    assert.equal((await mo.request({ type: 'send', room: 'dense', text: 'mo seven' })).ok, true);
    await entry(lou.page, 'mo seven').waitFor();

    const list = lou.page.getByTestId('messages');
    const msgs = list.locator('li.msg');
    assert.equal(await msgs.count(), 7);
    // headers: mo (one), lou (four), the action line (own line), mo (seven)
    const headers = await msgs.evaluateAll((lis) =>
      lis.map((li) => li.querySelector(':scope > .meta')).filter((m) => m && m.offsetParent !== null).map((m) => m.querySelector('.from').textContent),
    );
    assert.deepEqual(headers, ['mo', 'lou', 'mo'], 'one visible header per run of lines');
    assert.equal(await list.locator('li.msg.action').count(), 1);
    // every line still names its author for the tests and screen readers
    assert.equal(await entry(lou.page, 'mo two').locator('.from').textContent(), 'mo');

    // "Sent" is gone from the earlier line once a newer one exists
    const sent = (text) => entry(lou.page, text).locator('.state').isVisible();
    assert.equal(await sent('lou four'), false, 'an older own line shows no state');
    await eventually(async () => !(await sent('lou five')), { message: 'the state of the last own line to fade' });

    // lines per screen: a room of short lines fits many more than the 8 the cards did
    for (let i = 0; i < 20; i++) assert.equal((await mo.request({ type: 'send', room: 'dense', text: `short ${i}` })).ok, true);
    await entry(lou.page, 'short 19').waitFor();
    const perScreen = await list.evaluate((m) => {
      const lis = [...m.querySelectorAll('li.msg')];
      const tall = lis.at(-1).getBoundingClientRect().bottom - lis.at(-20).getBoundingClientRect().top;
      return (20 * 800) / tall;
    });
    assert.ok(perScreen >= 25, `${perScreen.toFixed(1)} grouped lines per 800 px`);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-layout-'));
    const file = path.join(dir, 'grouped.png');
    await lou.page.screenshot({ path: file });
    process.stdout.write(`# screenshot of the grouped layout: ${file}\n`);
    assert.deepEqual(lou.problems, []);
  });

  test('a mention while the tab is hidden: permission asked then, a notification, the count in the title', async () => {
    const nia = await user('nia', 'hush');
    await nia.context.grantPermissions(['notifications'], { origin: server.url });
    await nia.page.evaluate(spyOnNotifications);
    const oz = await client('oz');
    await oz.join('hush');

    // not asked on load, nor for a line without a mention
    assert.equal((await oz.request({ type: 'send', room: 'hush', text: 'nothing for anyone' })).ok, true);
    await entry(nia.page, 'nothing for anyone').waitFor();
    assert.equal(await nia.page.evaluate(() => globalThis.__asked), 0);

    await nia.page.evaluate(setHidden, true);
    assert.equal((await oz.request({ type: 'send', room: 'hush', text: 'still quiet' })).ok, true);
    assert.equal((await oz.request({ type: 'send', room: 'hush', text: 'hey @nia, look' })).ok, true);
    await entry(nia.page, 'hey @nia').waitFor({ state: 'attached' });
    const notes = await eventually(async () => {
      const n = await nia.page.evaluate(() => globalThis.__notes);
      return n.length > 0 && n;
    }, { message: 'a notification' });
    assert.equal(notes.length, 1, 'only the mention raises one');
    assert.equal(notes[0].title, 'oz in #hush');
    assert.equal(notes[0].body, 'oz: hey @nia, look');
    assert.equal(await nia.page.evaluate(() => globalThis.__asked), 1, 'asked at the first mention');
    assert.equal(await nia.page.title(), '(2) Chat', 'the two lines that came while hidden');

    // shown again: read, no count, no notification for what comes next
    await nia.page.evaluate(setHidden, false);
    await eventually(async () => (await nia.page.title()) === '#hush – Chat', { message: 'the title without a count' });
    assert.equal((await oz.request({ type: 'send', room: 'hush', text: 'again @nia' })).ok, true);
    await entry(nia.page, 'again @nia').waitFor();
    assert.equal((await nia.page.evaluate(() => globalThis.__notes)).length, 1);
    assert.deepEqual(nia.problems, []);
  });

  test('usable at 390 px: nothing wider than the screen, the field and Send in reach', async () => {
    const pat = await user('pat', 'narrow', { viewport: { width: 390, height: 760 } });
    const { page } = pat;
    await sendFromPage(page, 'a long line '.repeat(20));
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, 'no sideways scrolling');
    for (const id of ['message-input', 'send', 'share-location']) {
      const box = await page.getByTestId(id).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390 && box.y + box.height <= 760, `${id} on screen: ${JSON.stringify(box)}`);
    }
    assert.deepEqual(pat.problems, []);
  });
});
