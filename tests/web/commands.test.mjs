// The page reads typed lines by the command table both clients share:
// every case of protocol/vectors/commands.json through commandline.js and
// the composer's read(), and web/commands.json (what the page loads) is the
// vectors' table.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { help, parse } from '../../web/commandline.js';
import { read } from '../../web/composer.js';
import { show, vectors } from './vectors.mjs';

const file = vectors('commands.json');
const web = JSON.parse(readFileSync(new URL('../../web/commands.json', import.meta.url), 'utf8'));
const table = web.commands;

test('the page loads the protocol crate\'s table', () => {
  assert.deepEqual(web.commands, file.commands, 'web/commands.json is the table of protocol/vectors/commands.json');
  const names = table.filter((c) => c.clients.includes('web')).map((c) => c.name);
  for (const name of ['join', 'leave', 'me', 'msg', 'query', 'nick', 'away', 'back', 'whois', 'list', 'topic', 'help', 'location', 'link', 'devices', 'logout']) {
    assert.ok(names.includes(name), `the page offers /${name}`);
  }
});

// commandline.js's verdict in the vector file's terms.
function verdict(parsed) {
  if ('text' in parsed) return { text: parsed.text };
  if (parsed.error) return { error: parsed.error };
  return { command: parsed.command.name, args: parsed.args };
}

function expected(c) {
  if ('text' in c) return { text: c.text };
  if ('error' in c) return { error: c.error };
  return { command: c.command, args: c.args };
}

test('every case of the vector file', () => {
  assert.ok(file.cases.length >= 10, 'the file has cases');
  for (const c of file.cases) {
    const got = parse(table, c.input);
    assert.deepEqual(verdict(got), expected(c), show(c.input));
    if (c.message) assert.equal(got.message, c.message, show(c.input));
    if ('suggestion' in c) assert.deepEqual([got.name, got.suggestion], [c.name, c.suggestion], show(c.input));
  }
});

test('kinds of line the cases must cover', () => {
  const has = (pred) => file.cases.some(pred);
  assert.ok(has((c) => c.input.startsWith('//')), '// sends a literal /');
  assert.ok(has((c) => c.error === 'unknown'), 'unknown commands');
  assert.ok(has((c) => c.error === 'missing_argument'), 'missing arguments');
  assert.ok(has((c) => c.command === 'msg'), '/msg');
});

test('unknown and chat-tui-only commands are refused, never sent as text', () => {
  for (const line of ['/nope', '/topci x', '/quit', '/users']) {
    const r = read(table, line);
    assert.ok(r.error && !('text' in r), line);
  }
  assert.match(read(table, '/topci ship it').message, /did you mean \/topic\?/);
  assert.deepEqual(read(table, '//etc/motd'), { text: '/etc/motd' });
  assert.deepEqual(read(table, 'plain text'), { text: 'plain text' });
  // before the table has loaded, nothing that looks like a command goes out
  assert.equal(read(null, '/join dev').error, 'loading');
  assert.deepEqual(read(null, '//x'), { text: '/x' });
});

test('help is made from the table: every command the page offers, one line each', () => {
  const lines = help(table, 'web');
  const offered = table.filter((c) => c.clients.includes('web'));
  for (const c of offered) assert.ok(lines.includes(`${c.usage}: ${c.help}`), c.name);
  assert.ok(!lines.some((l) => l.startsWith('/quit')), 'nothing the page does not do');
  assert.deepEqual(help(table, 'web', '/msg'), [`${table.find((c) => c.name === 'msg').usage}: ${table.find((c) => c.name === 'msg').help}`]);
});
