// Moderation in the browser against a real chat-server (with the
// profanity filter on): roles in the user list, a person's menu (voice,
// mute, kick), refused lines shown failed with the server's reason and
// never delivered, each action as the shared sentence live and in history,
// the room's modes in the header, /modlog, and a kicked person's page.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { browserSuite, entry, eventually, joinAs, launchBrowser, sendFromPage, startServer, waitForUsers } from './lib/harness.mjs';

async function type(page, line) {
  await page.getByTestId('message-input').fill(line);
  await page.getByTestId('message-input').press('Enter');
}

const sentence = (page, text) => page.getByTestId('messages').locator('li.notice-moderation', { hasText: text });
const prefixOf = (page, name) => page.getByTestId('users').locator(`li[data-user="${name}"] .role`).textContent();
const person = (page, name) => page.getByTestId('users').locator(`li[data-user="${name}"]`);

// Opens `name`'s menu on `page` and clicks `action` (after filling the reason and duration, if given).
async function fromMenu(page, name, action, { reason, duration } = {}) {
  await page.getByRole('button', { name: `Moderate ${name}` }).click();
  const menu = page.getByTestId('person-menu');
  if (reason) await menu.getByLabel('Reason (optional)').fill(reason);
  if (duration) await menu.getByLabel('Duration of a ban or mute').fill(duration);
  await menu.getByRole('button', { name: action, exact: true }).click();
  await menu.waitFor({ state: 'detached' });
}

await browserSuite('moderation', ({ pw }) => {
  let server;
  let browser;
  const open = [];

  before(async () => {
    server = await startServer({ args: ['--content-filter', 'profanity'] });
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

  test("an op voices, mutes and kicks from a person's menu; refused lines fail with the server's reason; the sentences live and in history", async () => {
    const ann = await user('ann', 'mods');
    const bob = await user('bob', 'mods');
    const cat = await user('cat', 'mods');
    await waitForUsers(ann.page, ['ann', 'bob', 'cat']);
    // ann created the room: its owner, `@` in everyone's list; nobody else has a role
    await eventually(async () => (await prefixOf(cat.page, 'ann')) === '@', { message: "ann's @ in cat's list" });
    assert.equal(await person(cat.page, 'bob').locator('.role').count(), 0);
    // bob and cat may do nothing to anyone: no menus; ann may act on both
    assert.equal(await bob.page.getByRole('button', { name: /^Moderate / }).count(), 0);
    assert.equal(await ann.page.getByRole('button', { name: /^Moderate / }).count(), 2);

    // voice: the sentence on every page, `+` before bob's name live
    await fromMenu(ann.page, 'bob', 'Give voice');
    for (const u of [ann, bob, cat]) await sentence(u.page, 'ann gave voice to bob').waitFor();
    await eventually(async () => (await prefixOf(cat.page, 'bob')) === '+', { message: "bob's + in cat's list" });

    // mute for 10 minutes with a reason: bob's next line is refused, shown failed with the reason
    await fromMenu(ann.page, 'bob', 'Mute', { reason: 'calm down', duration: '10m' });
    for (const u of [ann, bob, cat]) await sentence(u.page, 'ann muted bob for 10 min: calm down').waitFor();
    await type(bob.page, 'can anyone hear me');
    const line = entry(bob.page, 'can anyone hear me');
    await eventually(async () => /\bfailed\b/.test(await line.getAttribute('class')), { message: "bob's line failed" });
    assert.match(await line.locator('.state').textContent(), /^Not sent: You are muted in mods/);

    // the course app's case: refused by the filter, failed with its reason
    await type(cat.page, 'damn shitty fucking');
    const rude = entry(cat.page, 'damn shitty fucking');
    await eventually(async () => /\bfailed\b/.test(await rude.getAttribute('class')), { message: "cat's line failed" });
    assert.match(await rude.locator('.state').textContent(), /^Not sent: The content filter refused this text/);
    assert.match(await cat.page.getByTestId('send-error').textContent(), /content filter/);

    // a person without rank is refused /kick, in words
    await type(cat.page, '/kick ann');
    await cat.page.getByTestId('messages').locator('li.notice-error', { hasText: '/kick:' }).waitFor();

    // kick with a reason from the menu: bob's page says so, keeps the room, marked left
    await fromMenu(ann.page, 'bob', 'Kick', { reason: 'spam' });
    for (const u of [ann, cat]) await sentence(u.page, 'bob was kicked by ann: spam').waitFor();
    await waitForUsers(ann.page, ['ann', 'cat']);
    await bob.page.getByTestId('messages').locator('li.notice-error', { hasText: 'You were removed from #mods by ann: spam.' }).waitFor();
    await waitForUsers(bob.page, []);
    assert.match(await bob.page.getByTestId('rooms').locator('li[data-room="mods"]').getAttribute('class'), /\boffline\b/);
    await type(bob.page, 'let me back');
    assert.match(await bob.page.getByTestId('send-error').textContent(), /You were removed from #mods by ann: spam\. Type \/join mods/);
    assert.equal(await entry(bob.page, 'let me back').count(), 0, 'nothing sent to a room you were removed from');

    // none of the refused lines reached anyone (the kick came after them)
    for (const text of ['can anyone hear me', 'damn shitty fucking']) {
      assert.equal(await entry(ann.page, text).count(), 0, `${text} never delivered`);
    }
    for (const u of [bob, cat]) await eventually(async () => (await u.page.getByTestId('messages').locator('li.failed').count()) === 1, { message: 'failed lines stay failed' });

    // the room's modes in the header, by /mode and /slow
    await type(ann.page, '/mode +m');
    await sentence(ann.page, "ann set the room's modes: moderated").waitFor();
    await type(ann.page, '/slow 10');
    for (const u of [ann, cat]) {
      await eventually(async () => (await u.page.getByTestId('room-modes').textContent()) === 'moderated, slow mode 10 s', { message: 'modes in the header' });
    }
    await type(ann.page, '/mode -m');
    await type(ann.page, '/slow 0');
    await eventually(async () => !(await ann.page.getByTestId('room-modes').isVisible()), { message: 'no modes: none shown' });

    // /modlog: the actions, oldest first
    await type(ann.page, '/modlog');
    await ann.page.getByTestId('messages').locator('li.notice', { hasText: 'Moderation log of #mods' }).waitFor();
    const log = await ann.page.getByTestId('messages').locator('li.notice-modlog').allTextContents();
    const kicked = log.findIndex((t) => t.includes('bob was kicked by ann: spam'));
    const muted = log.findIndex((t) => t.includes('ann muted bob for 10 min: calm down'));
    assert.ok(muted >= 0 && kicked > muted, JSON.stringify(log));

    // someone new sees the actions in the room's history
    const dan = await user('dan', 'mods');
    await dan.page.getByTestId('messages').locator('li.history.notice-moderation', { hasText: 'bob was kicked by ann: spam' }).waitFor();
    await sentence(dan.page, 'ann gave voice to bob').waitFor();

    // bob comes back with /join; a line goes through again once unmuted
    await type(bob.page, '/join mods');
    await waitForUsers(ann.page, ['ann', 'cat', 'dan', 'bob']);
    await fromMenu(ann.page, 'bob', 'Unmute');
    await sentence(bob.page, 'ann unmuted bob').waitFor();
    await sendFromPage(bob.page, 'thanks, I am back');
    await entry(ann.page, 'thanks, I am back').waitFor();
    for (const u of [ann, bob, cat, dan]) assert.deepEqual(u.problems, []);
  });
});
