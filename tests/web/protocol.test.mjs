// protocol.js against the protocol crate: every golden frame in
// protocol/tests/golden/ (read from the folder, so a new one is covered the
// day it is added), and frames it must refuse.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  CLIENT_FRAMES, HistoryParts, LEGACY_SERVER_FRAME_BYTES, SERVER_FRAMES, decodeClient, decodeServer, encodeClient, overLimit,
} from '../../web/protocol.js';
import { goldenFrames } from './vectors.mjs';

const golden = goldenFrames();

// Every field of `raw` is one the schema of its type knows, recursively, so a
// field added on the Rust side fails here until protocol.js knows it.
function assertKnown(raw, shape, where) {
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'type') continue;
    assert.ok(Object.hasOwn(shape, key), `${where}: protocol.js does not know the field ${key}`);
    const kind = shape[key];
    if (kind.t === 'object' && value !== null) assertKnown(value, kind.shape, `${where}.${key}`);
    if (kind.t === 'list') value.forEach((e, i) => assertKnown(e, kind.shape, `${where}.${key}[${i}]`));
    if (kind.t === 'frames') value.forEach((e, i) => assertKnown(e, SERVER_FRAMES[e.type], `${where}.${key}[${i}]`));
  }
}

describe('golden frames', () => {
  test('the folder has client and server frames', () => {
    assert.ok(golden.some(([name]) => name.startsWith('client_')));
    assert.ok(golden.some(([name]) => name.startsWith('server_')));
    for (const [name] of golden) assert.match(name, /^(client|server)_[a-z_]+\.json$/);
  });

  for (const [name, text] of golden) {
    test(name, () => {
      const raw = JSON.parse(text);
      if (name.startsWith('client_')) {
        const event = decodeClient(text);
        assert.ok(event, 'decodes');
        assertKnown(raw, CLIENT_FRAMES[raw.type], name);
        // what the page sends is byte for byte what the Rust encoder writes
        assert.equal(encodeClient(event), text);
        assert.equal(encodeClient(raw), text);
      } else {
        const event = decodeServer(text);
        assert.ok(event, 'decodes');
        assertKnown(raw, SERVER_FRAMES[raw.type], name);
        for (const [key, value] of Object.entries(raw)) assert.deepEqual(event[key], key === 'events' ? event.events : value, key);
        if (raw.events) assert.deepEqual(event.events, raw.events.map((e) => decodeServer(JSON.stringify(e))));
      }
    });
  }
});

test('every frame type of protocol.js has a golden frame', () => {
  const types = (prefix) => new Set(golden.filter(([n]) => n.startsWith(prefix)).map(([, t]) => JSON.parse(t).type));
  assert.deepEqual([...types('client_')].sort(), Object.keys(CLIENT_FRAMES).sort());
  assert.deepEqual([...types('server_')].sort(), Object.keys(SERVER_FRAMES).sort());
});

test('defaults are filled in and unknown fields ignored', () => {
  const ev = decodeServer('{"type":"message","room":"dev","seq":1,"ts":5,"from":"a","id":"x","text":"hi","future":[1]}');
  assert.deepEqual(ev, { type: 'message', room: 'dev', seq: 1, ts: 5, from: 'a', user: '', id: 'x', text: 'hi', action: false });
  assert.equal(decodeServer('{"type":"history","room":"dev","events":[],"more":false}').missed, 0);
  // a stored event of a type a newer server knows and this page does not is left out
  const newer = '{"type":"history","room":"dev","events":[{"type":"poll","room":"dev","seq":1},' +
    '{"type":"message","room":"dev","seq":2,"ts":5,"from":"a","id":"x","text":"hi"}],"more":false}';
  assert.deepEqual(decodeServer(newer).events.map((e) => e.seq), [2]);
  assert.equal(decodeServer('{"type":"poll","room":"dev"}'), null, 'unknown types are not events');
  assert.equal(decodeClient('{"type":"history","id":"1","room":"dev","before":9}').limit, 50);
  assert.equal(encodeClient({ type: 'history', id: '1', room: 'dev', before: 9 }), '{"type":"history","id":"1","room":"dev","before":9,"limit":50}');
  assert.equal(encodeClient({ type: 'send', id: '1', room: 'dev', text: 'hi', action: false }), '{"type":"send","id":"1","room":"dev","text":"hi"}');
  assert.equal(encodeClient({ type: 'join', id: '1', room: 'dev', since: null }), '{"type":"join","id":"1","room":"dev"}');
});

test('frames that are not what they claim are refused', () => {
  const refused = [
    '',
    'not json',
    '[1,2]',
    'null',
    '"message"',
    '{"room":"dev"}',
    '{"type":"dance"}',
    '{"type":"message","room":"dev","seq":1,"ts":5,"from":"a","id":"x"}',
    '{"type":"message","room":"dev","seq":-1,"ts":5,"from":"a","id":"x","text":"hi"}',
    '{"type":"message","room":"dev","seq":1.5,"ts":5,"from":"a","id":"x","text":"hi"}',
    '{"type":"message","room":"dev","seq":1,"ts":5,"from":{"a":1},"id":"x","text":"hi"}',
    '{"type":"location","room":"dev","seq":1,"ts":5,"from":"a","id":"x","latitude":"51","longitude":0}',
    '{"type":"room_state","room":"dev","users":["a"]}',
    '{"type":"room_state","room":"dev","users":[{"id":"u_1","name":"a"},{"id":"u_2"}]}',
    '{"type":"devices","devices":[{"id":"d_1","name":"x","created_ts":1,"last_seen_ts":2,"current":"yes"}]}',
    '{"type":"link_code","code":"K7Q2-M9XD"}',
    '{"type":"history","room":"dev","events":[{"type":"message"}],"more":true}',
    '{"type":"ack","id":"1","ok":"yes"}',
    '{"type":"ack","id":"1","ok":false,"error":{"code":"x"}}',
    '{"type":"welcome","protocol":1,"server":"s","name":"ann","limits":{},"epoch":"e"}',
  ];
  for (const text of refused) assert.equal(decodeServer(text), null, text);
  // every required field of every golden server frame is needed
  for (const [name, text] of golden.filter(([n]) => n.startsWith('server_'))) {
    const raw = JSON.parse(text);
    const shape = SERVER_FRAMES[raw.type];
    for (const key of Object.keys(raw)) {
      if (key === 'type' || shape[key].opt || 'def' in shape[key]) continue;
      const { [key]: _, ...rest } = raw;
      assert.equal(decodeServer(JSON.stringify(rest)), null, `${name} without ${key}`);
    }
  }
  assert.throws(() => encodeClient({ type: 'welcome' }));
});

test('a history in parts is handed on whole, per room, and dropped with the connection', () => {
  const message = (room, seq) => ({ type: 'message', room, seq, ts: 1, from: 'bob', id: `m${seq}`, text: `m${seq}`, action: false });
  const part = (room, seqs, continues) =>
    decodeServer(JSON.stringify({ type: 'history', room, events: seqs.map((s) => message(room, s)), more: true, ...(continues ? { continues } : {}) }));
  const parts = new HistoryParts();
  assert.equal(parts.add(part('dev', [1, 2], true)), null);
  assert.equal(parts.add(part('ops', [7], true)), null);
  const dev = parts.add(part('dev', [3], false));
  assert.deepEqual(dev.events.map((e) => e.seq), [1, 2, 3]);
  assert.equal(dev.more, true);
  parts.clear();
  assert.deepEqual(parts.add(part('ops', [8], false)).events.map((e) => e.seq), [8], 'cut-off parts are gone');
  assert.deepEqual(parts.add(part('dev', [4], false)).events.map((e) => e.seq), [4]);
});

test('frames over the announced bound are measured in UTF-8 bytes', () => {
  assert.equal(overLimit('x'.repeat(100), 100), 0);
  assert.equal(overLimit('x'.repeat(101), 100), 101);
  // 40 characters, 120 bytes
  assert.equal(overLimit('日'.repeat(40), 100), 120);
  assert.equal(overLimit('日'.repeat(33), 100), 0);
  const old = decodeServer('{"type":"welcome","protocol":2,"server":"s","name":"ann","user":{"id":"u_1","name":"ann"},"device":{"id":"d_1","name":"b"},"heartbeat_ms":30000,"limits":{"max_name_chars":32,"max_room_chars":32,"max_text_chars":4000,"max_frame_bytes":32768,"max_rooms":32,"rate_per_sec":10.0,"rate_burst":30},"epoch":"e"}');
  assert.equal(old.limits.max_server_frame_bytes, LEGACY_SERVER_FRAME_BYTES, 'an older server: the old bound');
});
