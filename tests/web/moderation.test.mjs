// The page's moderation rules (web/moderation.js) replay every case of
// protocol/vectors/moderation.json: durations, /ban and /mute's split, /mode
// letters, /filter words, role ranks and prefixes, who may act on whom, and
// the sentence for each moderation event; and the requests the commands send.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { parse } from '../../web/commandline.js';
import * as mod from '../../web/moderation.js';
import { decodeServer, encodeClient } from '../../web/protocol.js';
import { show, vectors } from './vectors.mjs';

const v = vectors('moderation.json');
const table = JSON.parse(readFileSync(new URL('../../web/commands.json', import.meta.url), 'utf8')).commands;

test('durations read and printed as the protocol crate does', () => {
  assert.ok(v.durations.length >= 10);
  for (const c of v.durations) assert.equal(mod.parseDuration(c.input), c.seconds, show(c.input));
  for (const c of v.formatted) assert.equal(mod.formatDuration(c.seconds), c.text, String(c.seconds));
});

test('what /ban and /mute read after the name', () => {
  for (const c of v.splits) assert.deepEqual(mod.splitDuration(c.input), { duration_s: c.duration_s, reason: c.reason }, show(c.input));
});

test('/mode letters and /filter words', () => {
  for (const c of v.modes) assert.deepEqual(mod.parseModeFlags(c.input), c.change, show(c.input));
  for (const c of v.filters) assert.equal(mod.parseFilter(c.input), c.filter, show(c.input));
  assert.equal(mod.MAX_SLOW_S, v.max_slow_s);
});

test('role ranks, prefixes and who may act on whom', () => {
  for (const c of v.roles) {
    assert.equal(mod.rank(c.role ?? undefined), c.rank, String(c.role));
    assert.equal(mod.prefix(c.role ?? undefined), c.prefix, String(c.role));
    assert.equal(mod.isOperator(c.role ?? undefined), c.operator, String(c.role));
  }
  assert.equal(v.acts.length, 250, 'every role pair for every action');
  for (const c of v.acts) {
    assert.equal(mod.mayActOn(c.actor ?? undefined, c.action, c.target ?? undefined), c.allowed, JSON.stringify(c));
  }
  assert.deepEqual(mod.ACTIONS, [...new Set(v.acts.map((c) => c.action))]);
  assert.equal(mod.mayActOn('admin', 'mode', undefined), false, 'mode is no act on a person');
});

test('the sentence for each moderation event, from the frame the page decodes', () => {
  assert.ok(v.describe.length >= 15);
  for (const c of v.describe) {
    const ev = decodeServer(JSON.stringify(c.event));
    assert.ok(ev, `${show(c.event)} decodes`);
    assert.equal(mod.describe(ev), c.text, show(c.event));
  }
  assert.equal(mod.describe({ type: 'message', text: 'hi' }), null);
});

// A typed line through the command table, then the moderation request.
function typed(line) {
  const p = parse(table, line);
  assert.ok(p.command, `${line} is a command: ${JSON.stringify(p)}`);
  return mod.request(p.command.name, p.args, 'dev');
}

test('every moderation command of the table sends its request, which encodes', () => {
  const cases = [
    ['/op bob', { type: 'moderate', room: 'dev', action: 'op', target: 'bob' }],
    ['/deop bob', { type: 'moderate', room: 'dev', action: 'deop', target: 'bob' }],
    ['/voice bob', { type: 'moderate', room: 'dev', action: 'voice', target: 'bob' }],
    ['/devoice bob', { type: 'moderate', room: 'dev', action: 'devoice', target: 'bob' }],
    ['/kick bob', { type: 'moderate', room: 'dev', action: 'kick', target: 'bob' }],
    ['/kick bob spam and more', { type: 'moderate', room: 'dev', action: 'kick', target: 'bob', reason: 'spam and more' }],
    ['/kick bob 10m', { type: 'moderate', room: 'dev', action: 'kick', target: 'bob', reason: '10m' }],
    ['/ban bob 1h spam', { type: 'moderate', room: 'dev', action: 'ban', target: 'bob', duration_s: 3600, reason: 'spam' }],
    ['/ban bob spam', { type: 'moderate', room: 'dev', action: 'ban', target: 'bob', reason: 'spam' }],
    ['/ban bob', { type: 'moderate', room: 'dev', action: 'ban', target: 'bob' }],
    ['/unban bob', { type: 'moderate', room: 'dev', action: 'unban', target: 'bob' }],
    ['/mute bob 5m', { type: 'moderate', room: 'dev', action: 'mute', target: 'bob', duration_s: 300 }],
    ['/unmute bob', { type: 'moderate', room: 'dev', action: 'unmute', target: 'bob' }],
    ['/invite bob', { type: 'moderate', room: 'dev', action: 'invite', target: 'bob' }],
    ['/mode +m-t', { type: 'mode', room: 'dev', moderated: true, topic_lock: false }],
    ['/mode i', { type: 'mode', room: 'dev', invite_only: true }],
    ['/slow 10', { type: 'mode', room: 'dev', slow_s: 10 }],
    ['/slow 0', { type: 'mode', room: 'dev', slow_s: 0 }],
    ['/filter Profanity', { type: 'mode', room: 'dev', filter: 'profanity' }],
    ['/modlog', { type: 'modlog', room: 'dev' }],
  ];
  for (const [line, frame] of cases) {
    const r = typed(line);
    assert.deepEqual(r, { frame }, line);
    assert.deepEqual(JSON.parse(encodeClient({ ...r.frame, id: '1' })), { ...r.frame, id: '1' }, `${line} encodes`);
  }
  const names = new Set(cases.map(([line]) => line.split(' ')[0].slice(1)));
  for (const c of table.filter((c) => c.clients.includes('web') && mod.request(c.name, ['x'], 'dev'))) {
    assert.ok(names.has(c.name), `/${c.name} has a case`);
  }
  assert.equal(names.size, 14, 'the fourteen moderation commands');
});

test('refused before sending, in words', () => {
  for (const line of ['/mode +x', '/mode +', '/slow 3601', '/slow -1', '/slow ten', '/filter on']) {
    const r = typed(line);
    assert.ok(r.error && !r.frame, `${line}: ${JSON.stringify(r)}`);
  }
  assert.equal(mod.request('nick', ['bob'], 'dev'), null, 'not a moderation command');
});

test("a person's menu offers what you may do and what changes something", () => {
  assert.deepEqual(mod.menuActions(undefined, undefined), [], 'nothing for someone without a role');
  assert.deepEqual(mod.menuActions('voice', undefined), []);
  assert.deepEqual(mod.menuActions('op', undefined), ['kick', 'ban', 'mute', 'unmute', 'voice', 'invite']);
  assert.deepEqual(mod.menuActions('op', 'voice'), ['kick', 'ban', 'mute', 'unmute', 'devoice', 'invite']);
  assert.deepEqual(mod.menuActions('op', 'op'), ['invite'], 'an equal is only invited');
  assert.deepEqual(mod.menuActions('owner', 'op'), ['kick', 'ban', 'mute', 'unmute', 'deop', 'invite']);
  assert.deepEqual(mod.menuActions('owner', undefined), ['kick', 'ban', 'mute', 'unmute', 'op', 'voice', 'invite']);
  for (const c of v.acts.filter((a) => a.allowed === false)) {
    assert.ok(!mod.menuActions(c.actor ?? undefined, c.target ?? undefined).includes(c.action), JSON.stringify(c));
  }
});

test('roles after op, voice, deop and devoice', () => {
  assert.equal(mod.roleAfter('op', undefined), 'op');
  assert.equal(mod.roleAfter('voice', undefined), 'voice');
  assert.equal(mod.roleAfter('deop', 'op'), undefined);
  assert.equal(mod.roleAfter('devoice', 'voice'), undefined);
  assert.equal(mod.roleAfter('kick', 'voice'), 'voice');
});
