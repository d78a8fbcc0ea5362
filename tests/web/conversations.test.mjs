// The conversation rules of the protocol crate as the page applies them:
// protocol/vectors/conversations.json's topics, away reasons, room or DM
// keys, and the peer of a key (rooms.js).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as protocol from '../../web/protocol.js';
import { peerOf } from '../../web/rooms.js';
import { input, show, vectors } from './vectors.mjs';

const file = vectors('conversations.json');

const verdict = (r) => (r.ok ? { ok: r.value } : { error: r.code, why: r.why });
const expected = (c) => ('error' in c ? { error: c.error, why: c.why } : { ok: c.ok });

const sections = { topics: protocol.topic, away_reasons: protocol.awayReason, conversations: protocol.conversation };

for (const [section, check] of Object.entries(sections)) {
  test(section, () => {
    assert.ok(file[section].length > 0);
    for (const c of file[section]) assert.deepEqual(verdict(check(input(c.input))), expected(c), show(c.input));
  });
}

test('peers', () => {
  assert.ok(file.peers.length > 0);
  for (const c of file.peers) assert.equal(peerOf(c.input, c.name), c.ok, `${c.input} as ${c.name}`);
});

test('the limits the page checks are the crate\'s', () => {
  assert.equal(file.limits.max_topic_chars, 200);
  assert.equal(file.limits.max_away_chars, 200);
  const checked = [...Object.keys(sections), 'peers', 'limits', 'about'];
  assert.deepEqual(Object.keys(file).sort(), checked.sort(), 'every section of the file is checked');
});
