import { createRequire } from 'node:module';
const require = createRequire('/work/wt/id-web/tests/browser/package.json');
const pw = require('playwright-core');
const url = process.argv[2];
const b = await pw.chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox'] });
const page = await (await b.newContext({ viewport: { width: 1100, height: 600 } })).newPage();
await page.goto(`${url}/?username=ann&room=dev`);
await page.getByTestId('join-submit').click();
await page.getByTestId('message-input').waitFor({ state: 'visible', timeout: 5000 });
for (const c of ['hello there', '/link', '/devices']) { await page.getByTestId('message-input').fill(c); await page.getByTestId('message-input').press('Enter'); await page.waitForTimeout(300); }
await page.waitForTimeout(500);
await page.screenshot({ path: '/tmp/idweb/chat.png' });
await b.close();
