// Signing in when it does not simply work: a server that takes no new
// names (the operator's code from `chat-server user add` lets one in), a
// wrong code, and a stored credential the server does not know.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';

import { SERVER_BIN, browserSuite, eventually, launchBrowser, openPage, startServer } from './lib/harness.mjs';
import { CODE_RE } from './lib/signin.mjs';

await browserSuite('signing in', ({ pw }) => {
  let server;
  let browser;
  const open = [];

  before(async () => {
    server = await startServer({ args: ['--registration', 'closed'] });
    browser = await launchBrowser(pw);
  });

  after(async () => {
    for (const item of open) await item.close().catch(() => {});
    await browser?.close();
    await server?.stop();
  });

  async function page(query = '') {
    const p = await openPage(browser, `${server.url}/${query}`);
    open.push(p);
    return p;
  }

  const joinError = (p) => p.page.getByTestId('join-error').textContent();

  test('registration closed: a new name is refused with whom to ask; the operator\'s code lets the person in', async () => {
    const p = await page('?username=nia&room=lobby');
    await p.page.getByTestId('join-submit').click();
    await eventually(async () => /takes no new names.*operator.*I have a code/.test(await joinError(p)), { message: 'registration_closed' });
    assert.equal(await p.page.evaluate(() => localStorage.getItem('chat.credential')), null);

    const out = execFileSync(SERVER_BIN, ['user', 'add', 'nia', '--data-dir', server.dataDir], { encoding: 'utf8', timeout: 20_000 });
    const code = CODE_RE.exec(out)[1];
    // the page opened "I have a code" and put the cursor there
    assert.equal(await p.page.evaluate(() => document.activeElement?.dataset.testid), 'join-code');
    await p.page.getByTestId('join-code').fill(code);
    await p.page.getByTestId('join-submit').click();
    await p.page.getByTestId('message-input').waitFor({ state: 'visible' });
    await eventually(async () => (await p.page.getByTestId('connection-status').textContent()) === 'Connected as nia', { message: 'nia' });
    assert.ok(await p.page.evaluate(() => localStorage.getItem('chat.credential')));
    assert.deepEqual(p.problems, []);
  });

  test('a wrong or used code is refused with what to do, in the code field', async () => {
    const p = await page('?room=lobby');
    await p.page.getByTestId('join-have-code').click();
    await p.page.getByTestId('join-code').fill('ZZZZ-ZZZZ');
    await p.page.getByTestId('join-submit').click();
    await eventually(async () => /unknown, used or expired.*\/link/.test(await joinError(p)), { message: 'bad_link_code' });
    assert.equal(await p.page.evaluate(() => document.activeElement?.dataset.testid), 'join-code');
    assert.deepEqual(p.problems, []);
  });

  test('a stored credential the server does not know is forgotten, and the page says so', async () => {
    const p = await page();
    await p.page.evaluate(() => {
      localStorage.setItem('chat.credential', 'not-a-credential-this-server-ever-issued');
      localStorage.setItem('chat.name', 'oli');
    });
    await p.page.goto(`${server.url}/?room=lobby`);
    // signed in (as far as the page knew): it tried at once, without a click
    await eventually(async () => /no longer knows this browser’s sign-in/.test(await joinError(p)), { message: 'bad_credential' });
    assert.equal(await p.page.evaluate(() => localStorage.getItem('chat.credential')), null, 'forgotten');
    assert.equal(await p.page.getByTestId('join-name').isEditable(), true, 'a name can be typed again');
    assert.deepEqual(p.problems, []);
  });
});
