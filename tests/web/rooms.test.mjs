// The room model of rooms.js: plain data the page keeps per room (no DOM
// nodes), so it is tested here without a browser.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Rooms, dmKey, forgetNumbers, isDm, label, newRoom, peerOf, presence, track } from '../../web/rooms.js';

test('sequence numbers: each message is shown once, gaps are allowed', () => {
  const room = newRoom('dev');
  assert.equal(track(room, 5), true);
  assert.deepEqual([room.firstSeq, room.lastSeq], [5, 5]);
  assert.equal(track(room, 5), false, 'a duplicate');
  assert.equal(track(room, 3), false, 'older than what is shown');
  assert.equal(track(room, 9), true);
  assert.deepEqual([room.firstSeq, room.lastSeq], [5, 9]);
  assert.equal(track(room, undefined), true, 'events without a number are not tracked');
  forgetNumbers(room);
  assert.deepEqual([room.firstSeq, room.lastSeq, room.more], [0, 0, false]);
  assert.equal(track(room, 1), true, 'a new store starts again');
});

test('presence keeps join order and one entry per identity', () => {
  const room = newRoom('dev');
  const [ann, bob, cy] = [{ id: 'u_a', name: 'ann' }, { id: 'u_b', name: 'bob' }, { id: 'u_c', name: 'cy' }];
  room.users = [ann, bob];
  presence(room, cy, true);
  presence(room, { id: 'u_b', name: 'Bob' }, false);
  assert.deepEqual(room.users, [ann, cy], 'left by id, whatever the name');
  presence(room, { id: 'u_a', name: 'Ann' }, true);
  assert.deepEqual(room.users, [cy, { id: 'u_a', name: 'Ann' }], 'a rejoin moves to the end, under the new spelling');
  presence(room, { id: 'u_x', name: 'cy' }, true);
  assert.equal(room.users.length, 3, 'another identity is another person');
});

test('the rooms you are in, the one shown and the unread total', () => {
  const rooms = new Rooms();
  const dev = rooms.add('dev');
  assert.equal(rooms.add('dev'), dev, 'adding twice is the same room');
  const ops = rooms.add('ops');
  assert.equal(rooms.shown, undefined);
  rooms.current = 'ops';
  assert.equal(rooms.shown, ops);
  dev.unread = 2;
  ops.unread = 1;
  assert.equal(rooms.unread, 3);
  assert.deepEqual([...rooms.values()].map((r) => r.name), ['dev', 'ops']);
  rooms.delete('ops');
  assert.equal(rooms.current, null, 'the shown room was left');
  assert.equal(rooms.has('ops'), false);
  rooms.clear();
  assert.equal([...rooms.values()].length, 0);
});

test('a room model holds no DOM nodes', () => {
  const room = newRoom('dev');
  for (const [key, value] of Object.entries(room)) {
    const plain = (v) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
    // the room's modes: a plain object of plain values
    const record = Boolean(value) && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype && Object.values(value).every(plain);
    assert.ok(plain(value) || Array.isArray(value) || record, key);
  }
});

test('DM keys: both ids sorted, the peer is the other one, shown by name', () => {
  const [ann, bob] = ['u_3f9a1c0e5b7d2468', 'u_9e04b7f3d1681c2a'];
  const key = dmKey(bob, ann);
  assert.equal(key, `@${ann}+${bob}`);
  assert.equal(dmKey(ann, bob), key, 'the same key for both');
  assert.equal(isDm(key), true);
  assert.equal(isDm('dev'), false);
  assert.equal(peerOf(key, ann), bob);
  assert.equal(peerOf(key, bob), ann);
  assert.equal(peerOf(key, 'u_0000000000000000'), null, 'not a DM of yours');
  const room = newRoom(key);
  room.peer = { id: bob, name: 'bob' };
  assert.equal(label(room), 'bob');
  assert.equal(label(newRoom('dev')), '#dev');
});
