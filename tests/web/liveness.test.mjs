// The page's check of its own link (web/liveness.js): a ping after one quiet
// heartbeat interval, dead after one more without an answer.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Liveness } from '../../web/liveness.js';

const HB = 1000;

test('a quiet link is pinged after one interval and dead after two', () => {
  const live = new Liveness(HB, 0);
  assert.equal(live.wake(), HB);
  assert.equal(live.check(HB - 1), null);
  assert.equal(live.check(HB), 'ping');
  assert.equal(live.check(HB), null, 'one ping per quiet spell');
  assert.equal(live.wake(), 2 * HB);
  assert.equal(live.check(2 * HB - 1), null);
  assert.equal(live.check(2 * HB), 'dead');
});

test('any frame, the ping\'s ack included, keeps the link alive', () => {
  const live = new Liveness(HB, 0);
  live.received(600);
  assert.equal(live.check(HB), null, 'counted from the last frame');
  assert.equal(live.wake(), 1600);
  assert.equal(live.check(1600), 'ping');
  live.received(1700); // the ack
  assert.equal(live.check(2600), null, 'answered: not dead');
  assert.equal(live.check(2700), 'ping', 'quiet again: asked again');
  assert.equal(live.check(3699), null);
  assert.equal(live.check(3700), 'dead');
});

test('a timer that fired late costs a ping, not the connection', () => {
  // a hidden tab: the first check runs long after two intervals
  const live = new Liveness(HB, 0);
  assert.equal(live.check(60 * HB), 'ping');
  assert.equal(live.check(60 * HB + 10), null);
  live.received(60 * HB + 20);
  assert.equal(live.check(61 * HB), null);
});
