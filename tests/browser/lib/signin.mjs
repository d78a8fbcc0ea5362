// Signing a device in with a link code, through the page: /link typed in
// the composer shows a code; "I have a code" on the join page uses one.

import { openPage } from './harness.mjs';

export const CODE_RE = /\b([0-9A-Z]{4}-[0-9A-Z]{4})\b/;

/** Types /link in the page's composer and returns the code its notice shows. */
export async function linkCode(page) {
  await page.getByTestId('message-input').fill('/link');
  await page.getByTestId('message-input').press('Enter');
  const notice = page.getByTestId('messages').locator('li.notice', { hasText: 'Link code' }).last();
  await notice.waitFor();
  return CODE_RE.exec(await notice.textContent())[1];
}

/** Signs a fresh browser context in with a code from another device, into `room`. */
export async function joinWithCode(browser, baseUrl, code, room) {
  const u = await openPage(browser, `${baseUrl}/`);
  await u.page.getByTestId('join-have-code').click();
  await u.page.getByTestId('join-code').fill(code.toLowerCase().replace('-', ''));
  await u.page.getByTestId('join-room').fill(room);
  await u.page.getByTestId('join-submit').click();
  await u.page.getByTestId('message-input').waitFor({ state: 'visible' });
  return u;
}
