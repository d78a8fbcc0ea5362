// The page's outbox replays every scenario and the backoff table of
// protocol/vectors/outbox.json, the rulebook's test vectors.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  ACK_TIMEOUT_MS,
  BACKOFF_FIRST_MS,
  BACKOFF_MAX_MS,
  MAX_TRIES,
  Outbox,
  UNKNOWN_OUTCOME_CODES,
  backoff,
  requestIds,
} from '../../web/outbox.js';
import { encodeClient } from '../../web/protocol.js';
import { vectors } from './vectors.mjs';

const book = vectors('outbox.json');

test('the constants are the rulebook\'s', () => {
  assert.deepEqual(
    { max_tries: MAX_TRIES, ack_timeout_ms: ACK_TIMEOUT_MS, backoff_first_ms: BACKOFF_FIRST_MS, backoff_max_ms: BACKOFF_MAX_MS },
    book.constants,
  );
  assert.deepEqual([...UNKNOWN_OUTCOME_CODES].sort(), [...book.unknown_outcome_codes].sort());
});

test('the backoff table', () => {
  assert.ok(book.backoff.length > 0);
  for (const { attempt, jitter, ms } of book.backoff) {
    assert.equal(backoff(attempt, jitter), ms, `backoff(${attempt}, ${jitter})`);
  }
});

test('request ids are unique and valid on the wire', () => {
  const a = requestIds();
  const b = requestIds();
  const ids = [a(), a(), b(), b()];
  assert.equal(new Set(ids).size, 4);
  for (const id of ids) assert.match(id, /^[0-9a-f]{12}-\d+$/);
});

// A frame for each kind of line the vectors submit.
function frameFor({ id, room, kind }) {
  switch (kind) {
    case 'text':
      return { type: 'send', id, room, text: `line ${id}` };
    case 'action':
      return { type: 'send', id, room, text: 'waves', action: true };
    case 'location':
      return { type: 'location', id, room, latitude: 51.5007, longitude: -0.1246 };
    default:
      throw new Error(`unknown kind of line: ${kind}`);
  }
}

function state(line) {
  if (!line) return 'unknown';
  return line.status === 'failed' ? `failed:${line.code}` : line.status;
}

// Replays one scenario. "sent" in an expectation lists the ids put on the
// wire since the previous expectation.
function replay(steps) {
  let now = 0;
  let sent = [];
  const outbox = new Outbox({
    send: (line) => {
      assert.equal(typeof encodeClient(line.frame), 'string');
      sent.push(line.id);
    },
    jitter: () => 1.0,
  });
  const actions = {
    connected: () => outbox.connected(now),
    disconnected: () => outbox.disconnected(now),
    joined: (s) => outbox.joined(s.room, now),
    join_failed: (s) => outbox.joinFailed(s.room, s.code),
    submit: (s) => outbox.submit({ id: s.id, room: s.room, frame: frameFor(s) }, now),
    ack: (s) => outbox.ack(s.id, s.seq),
    nack: (s) => outbox.nack(s.id, s.code, now),
    echo: (s) => outbox.echo(s.room, s.id, s.seq),
    retry: (s) => outbox.retry(s.id, now),
    retry_room: (s) => outbox.retryRoom(s.room, now),
    leave: (s) => outbox.leave(s.room),
    tick: () => outbox.tick(now),
  };
  steps.forEach((step, i) => {
    if (step.at !== undefined) now = step.at;
    if (step.do !== undefined) {
      assert.ok(Object.hasOwn(actions, step.do), `step ${i}: unknown action ${step.do}`);
      actions[step.do](step);
    }
    if (step.expect) {
      const where = `step ${i} (at ${now} ms)`;
      const { sent: wantSent, states, wake } = step.expect;
      if (wantSent !== undefined) assert.deepEqual(sent, wantSent, `${where}: sent`);
      for (const [id, want] of Object.entries(states || {})) assert.equal(state(outbox.get(id)), want, `${where}: state of ${id}`);
      if (wake !== undefined) assert.equal(outbox.wake(), wake, `${where}: wake`);
      sent = [];
    }
  });
}

describe('the outbox scenarios', () => {
  assert.ok(book.scenarios.length > 0);
  for (const scenario of book.scenarios) {
    test(scenario.name, () => replay(scenario.steps));
  }
});

test('status changes are reported, each once', () => {
  const seen = [];
  const outbox = new Outbox({ send: () => {}, changed: (line) => seen.push(`${line.id}:${state(line)}`), jitter: () => 1 });
  outbox.connected(0);
  outbox.joined('dev', 0);
  outbox.submit({ id: 'a', room: 'dev', frame: frameFor({ id: 'a', room: 'dev', kind: 'text' }) }, 0);
  outbox.nack('a', 'rate_limited', 1, 'slow down');
  assert.equal(outbox.get('a').message, 'slow down');
  outbox.retry('a', 2);
  outbox.echo('dev', 'a', 5);
  outbox.ack('a', 5);
  assert.deepEqual(seen, ['a:pending', 'a:failed:rate_limited', 'a:pending', 'a:sent']);
  assert.equal(outbox.get('a').seq, 5);
  outbox.forget('a');
  assert.equal(outbox.get('a'), undefined);
});

// Moderation's refusals (protocol README: none is resent): each fails the
// line at once with the server's message, and nothing is sent again, however
// long the outbox runs.
test('a line refused by moderation fails with the reason and is never resent', () => {
  const codes = ['content_blocked', 'muted', 'moderated', 'slow_mode', 'flood', 'banned', 'invite_only', 'forbidden', 'topic_locked'];
  for (const code of codes) {
    assert.ok(!book.unknown_outcome_codes.includes(code), `${code} is a definite refusal`);
    const sent = [];
    const outbox = new Outbox({ send: (line) => sent.push(line.id), jitter: () => 1 });
    outbox.connected();
    outbox.joined('dev', 0);
    outbox.submit({ id: 'a', room: 'dev', frame: frameFor({ id: 'a', room: 'dev', kind: 'text' }) }, 0);
    outbox.nack('a', code, 10, `refused: ${code}`);
    assert.deepEqual({ status: outbox.get('a').status, code: outbox.get('a').code, message: outbox.get('a').message }, { status: 'failed', code, message: `refused: ${code}` });
    assert.equal(outbox.wake(), null, `${code}: nothing left to do`);
    for (let now = 0; now <= 10 * BACKOFF_MAX_MS; now += ACK_TIMEOUT_MS) outbox.tick(now);
    outbox.disconnected();
    outbox.connected();
    outbox.joined('dev', 20);
    assert.deepEqual(sent, ['a'], `${code}: sent once`);
  }
});
