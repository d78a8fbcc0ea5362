// Sharing a location: with the browser's geolocation allowed, refused, and
// by typing coordinates.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ProtocolClient, browserSuite, eventually, joinAs, launchBrowser, startServer } from './lib/harness.mjs';

const google = (lat, lon) => `https://www.google.com/maps?q=${lat.toFixed(6)},${lon.toFixed(6)}`;
const osm = (lat, lon) =>
  `https://www.openstreetmap.org/?mlat=${lat.toFixed(6)}&mlon=${lon.toFixed(6)}#map=16/${lat.toFixed(6)}/${lon.toFixed(6)}`;

await browserSuite('sharing a location', ({ pw, WebSocket }) => {
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

  async function watcher(room) {
    const c = await ProtocolClient.connect(WebSocket, server.url, `watch-${room}`);
    open.push(c);
    await c.join(room);
    return c;
  }

  async function mapLinks(page, from) {
    const li = page.getByTestId('messages').locator('li.location', { has: page.locator('.from', { hasText: from }) }).last();
    await li.waitFor();
    return li.locator('a').evaluateAll((as) => as.map((a) => [a.textContent, a.href, a.rel]));
  }

  test('with permission granted, the position is shared as map links', async () => {
    const [lat, lon] = [48.8584, 2.2945];
    const watch = await watcher('geo-ok');
    const ann = await joinAs(browser, server.url, 'ann', 'geo-ok', {
      permissions: ['geolocation'],
      geolocation: { latitude: lat, longitude: lon },
    });
    open.push(ann);
    const bob = await joinAs(browser, server.url, 'bob', 'geo-ok');
    open.push(bob);

    await ann.page.getByTestId('share-location').click();
    const ev = await watch.waitFor((e) => e.type === 'location' && e.from === 'ann');
    assert.equal(ev.latitude, lat);
    assert.equal(ev.longitude, lon);

    for (const page of [bob.page, ann.page]) {
      assert.deepEqual(await mapLinks(page, 'ann'), [
        ['Google Maps', google(lat, lon), 'noopener noreferrer'],
        ['OpenStreetMap', osm(lat, lon), 'noopener noreferrer'],
      ]);
    }
    assert.equal(await ann.page.getByTestId('coords-form').isVisible(), false, 'no fallback needed');

    // a location from a protocol client shows the same way
    assert.equal((await watch.request({ type: 'location', room: 'geo-ok', latitude: -33.8688, longitude: 151.2093 })).ok, true);
    assert.deepEqual((await mapLinks(bob.page, 'watch-geo-ok')).map((l) => l[1]), [
      google(-33.8688, 151.2093),
      osm(-33.8688, 151.2093),
    ]);
    assert.deepEqual(ann.problems, []);
  });

  test('with permission denied, the page says so and offers typed coordinates', async () => {
    const watch = await watcher('geo-denied');
    // no permission granted: Chromium refuses the request
    const cy = await joinAs(browser, server.url, 'cy', 'geo-denied');
    open.push(cy);
    await cy.page.getByTestId('share-location').click();

    const form = cy.page.getByTestId('coords-form');
    await form.waitFor({ state: 'visible' });
    assert.match(await cy.page.getByTestId('location-error').textContent(), /denied/);
    assert.equal(await cy.page.evaluate(() => document.activeElement?.dataset.testid), 'coords-lat', 'focus moves to the field');

    // out of range is refused before sending
    await cy.page.getByTestId('coords-lat').fill('91');
    await cy.page.getByTestId('coords-lon').fill('10');
    await cy.page.getByTestId('coords-submit').click();
    await eventually(async () => /Latitude must be/.test(await form.locator('.error').textContent()), { message: 'range error' });

    await cy.page.getByTestId('coords-lat').fill('51.5007');
    await cy.page.getByTestId('coords-lon').fill('-0.1246');
    await cy.page.getByTestId('coords-lon').press('Enter');
    const ev = await watch.waitFor((e) => e.type === 'location' && e.from === 'cy');
    assert.deepEqual([ev.latitude, ev.longitude], [51.5007, -0.1246]);
    await form.waitFor({ state: 'hidden' });
    assert.deepEqual((await mapLinks(cy.page, 'cy')).map((l) => l[1]), [google(51.5007, -0.1246), osm(51.5007, -0.1246)]);
    assert.deepEqual(cy.problems, []);
  });

  test('without geolocation in the browser, typed coordinates still work', async () => {
    const watch = await watcher('geo-none');
    const dee = await joinAs(browser, server.url, 'dee', 'geo-none');
    open.push(dee);
    // what a browser without the API looks like to the page
    await dee.page.evaluate(() => {
      delete Navigator.prototype.geolocation;
    });
    await dee.page.getByTestId('share-location').click();
    await dee.page.getByTestId('coords-form').waitFor({ state: 'visible' });
    assert.match(await dee.page.getByTestId('location-error').textContent(), /cannot share its location/);
    await dee.page.getByTestId('coords-lat').fill('40.6892');
    await dee.page.getByTestId('coords-lon').fill('-74.0445');
    await dee.page.getByTestId('coords-submit').click();
    const ev = await watch.waitFor((e) => e.type === 'location' && e.from === 'dee');
    assert.deepEqual([ev.latitude, ev.longitude], [40.6892, -74.0445]);
    // Escape closes the form again
    await dee.page.getByTestId('share-location').click();
    await dee.page.getByTestId('coords-form').waitFor({ state: 'visible' });
    await dee.page.getByTestId('coords-lat').press('Escape');
    await dee.page.getByTestId('coords-form').waitFor({ state: 'hidden' });
  });
});
