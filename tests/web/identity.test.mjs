// Signing in (web/identity.js): which way in a hello uses and what is kept
// in the browser's storage.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Identity } from '../../web/identity.js';

// localStorage as the page sees it.
class Store {
  items = new Map();
  getItem(k) {
    return this.items.has(k) ? this.items.get(k) : null;
  }
  setItem(k, v) {
    this.items.set(k, String(v));
  }
  removeItem(k) {
    this.items.delete(k);
  }
}

const welcome = (extra = {}) => ({ type: 'welcome', name: 'ann', user: { id: 'u_1', name: 'ann' }, ...extra });

test('a new name registers; the credential it brings is kept and used from then on', () => {
  const store = new Store();
  const id = new Identity(store);
  assert.equal(id.signedInAs, '');
  id.ask({ name: 'ann' });
  assert.deepEqual(id.hello(), { name: 'ann' });
  id.welcomed(welcome({ credential: 's3cret' }));
  assert.equal(store.getItem('chat.credential'), 's3cret');
  assert.deepEqual(id.hello(), { credential: 's3cret' }, 'a reconnect presents the credential, not the name');
  assert.equal(new Identity(store).signedInAs, 'ann', 'a reload is signed in');
  assert.deepEqual(new Identity(store).hello(), { credential: 's3cret' });
});

test('a code signs in as the code says, once; a welcome without a credential keeps the stored one', () => {
  const store = new Store();
  store.setItem('chat.credential', 'old');
  const id = new Identity(store);
  id.ask({ code: 'K7Q2-M9XD' });
  assert.deepEqual(id.hello(), { link_code: 'K7Q2-M9XD' }, 'the code wins over a stored credential');
  id.welcomed(welcome({ credential: 'new' }));
  assert.deepEqual(id.hello(), { credential: 'new' }, 'a code is never sent twice');
  id.ask({});
  id.welcomed(welcome());
  assert.equal(store.getItem('chat.credential'), 'new');
});

test('a revoked or unknown credential is forgotten', () => {
  const store = new Store();
  const id = new Identity(store);
  id.welcomed(welcome({ credential: 's3cret' }));
  id.forget();
  assert.equal(store.getItem('chat.credential'), null);
  assert.equal(id.signedInAs, '');
  assert.equal(id.user, null);
  id.ask({ name: 'ann' });
  assert.deepEqual(id.hello(), { name: 'ann' });
});

test('without storage (disabled, or throwing) the page still signs in for this visit', () => {
  const throwing = { getItem: () => { throw new Error('denied'); }, setItem: () => { throw new Error('denied'); }, removeItem() {} };
  for (const store of [undefined, throwing]) {
    const id = new Identity(store);
    id.ask({ name: 'ann' });
    id.welcomed(welcome({ credential: 's3cret' }));
    assert.deepEqual(id.hello(), { credential: 's3cret' }, 'reconnects keep the identity');
  }
});

test('a welcome that issued no credential: reconnects ask by the name the server gave', () => {
  const id = new Identity(new Store());
  id.ask({ name: ' ann ' });
  id.welcomed(welcome());
  assert.deepEqual(id.hello(), { name: 'ann' });
});
