// protocol.js gives the protocol crate's verdict on every case of its vector
// files: validation (protocol/vectors/validation.json), map links
// (maps.json) and mentions (mention.json).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import * as protocol from '../../web/protocol.js';
import { coordinate, input, show, vectors } from './vectors.mjs';

const validation = vectors('validation.json');

// protocol.js's verdict in the vector files' terms.
function verdict(result) {
  if (!result.ok) return { error: result.code, why: result.why };
  return { ok: result.value };
}

function expected(c) {
  return 'error' in c ? { error: c.error, why: c.why } : { ok: typeof c.ok === 'string' ? c.ok : true };
}

const sections = {
  names: (text) => protocol.displayName(text),
  rooms: (text) => protocol.roomName(text),
  typed_rooms: (text) => protocol.roomName(protocol.normalizeRoom(text)),
  texts: (text) => protocol.messageText(text),
  request_ids: (text) => protocol.requestId(text),
};

describe('validation', () => {
  test('the limits are the crate\'s', () => {
    assert.deepEqual(validation.limits, protocol.LIMITS);
  });

  for (const [section, check] of Object.entries(sections)) {
    test(section, () => {
      const cases = validation[section];
      assert.ok(cases.length > 0, `${section} has cases`);
      for (const c of cases) assert.deepEqual(verdict(check(input(c.input))), expected(c), show(c.input));
    });
  }

  test('locations', () => {
    assert.ok(validation.locations.length > 0);
    for (const c of validation.locations) {
      const got = verdict(protocol.location(coordinate(c.latitude), coordinate(c.longitude)));
      assert.deepEqual(got, expected(c), `${c.latitude}, ${c.longitude}`);
    }
  });

  test('every section of the file is checked', () => {
    const checked = [...Object.keys(sections), 'locations', 'limits', 'char_classes', 'about'];
    assert.deepEqual(Object.keys(validation).sort(), checked.sort());
  });
});

describe('character classes, every code point', () => {
  const classes = {
    invisible_or_control: protocol.isInvisibleOrControl,
    bidi_control: protocol.isBidiControl,
    white_space: protocol.isWhiteSpace,
  };
  for (const [name, has] of Object.entries(classes)) {
    test(name, () => {
      const ranges = validation.char_classes[name];
      assert.ok(ranges.length > 0);
      const inClass = (cp) => ranges.some(([a, b]) => cp >= a && cp <= b);
      for (let cp = 0; cp <= 0x10ffff; cp++) {
        if (has(cp) !== inClass(cp)) assert.fail(`U+${cp.toString(16).toUpperCase()}: protocol.js says ${has(cp)}`);
      }
    });
  }

  test('trim and stripBidi use the same classes', () => {
    assert.equal(protocol.trim('\u0085\u3000 a b \u2029'), 'a b');
    assert.equal(protocol.trim('\ufeffa'), '\ufeffa');
    assert.equal(protocol.stripBidi('a\u202eb\u2066c\u200bd'), 'abc\u200bd');
    assert.equal(protocol.chars('🦀e\u0301'), 3);
  });
});

describe('map links', () => {
  const maps = vectors('maps.json');
  test('every case', () => {
    assert.ok(maps.cases.length > 0);
    for (const c of maps.cases) {
      assert.equal(protocol.openstreetmapUrl(c.latitude, c.longitude), c.openstreetmap, `${c.latitude}, ${c.longitude}`);
      assert.equal(protocol.googleMapsUrl(c.latitude, c.longitude), c.google, `${c.latitude}, ${c.longitude}`);
    }
  });
});

describe('mentions', () => {
  const mention = vectors('mention.json');
  test('every case', () => {
    assert.ok(mention.cases.length > 0);
    for (const c of mention.cases) {
      const text = input(c.text);
      const found = protocol.mentionRanges(text, c.name);
      // UTF-16 offsets to characters, as the vectors count
      const charsBefore = (unit) => protocol.chars(text.slice(0, unit));
      const where = `${show(c.text)} / ${JSON.stringify(c.name)}`;
      assert.deepEqual(found.map(([a, b]) => text.slice(a, b)), c.marked, where);
      assert.deepEqual(found.map(([a, b]) => [charsBefore(a), charsBefore(b)]), c.ranges, where);
    }
  });
});

describe('names (protocol/vectors/names.json)', () => {
  // The look-alike key (a UTS #39 skeleton) is the server's alone; the page
  // gives the same verdict on what a name may be, and sends it in NFC.
  const names = vectors('names.json');
  test('every case', () => {
    assert.ok(names.cases.length > 0);
    for (const c of names.cases) assert.deepEqual(verdict(protocol.normalizeName(input(c.input))), expected(c), show(c.input));
  });
});
