// Reading the protocol crate's golden frames and vector files for the tests
// of the page's modules (node --test tests/web/).

import { readFileSync, readdirSync } from 'node:fs';

const PROTOCOL = new URL('../../protocol/', import.meta.url);

/** A vector file of protocol/vectors/, parsed. */
export function vectors(name) {
  return JSON.parse(readFileSync(new URL(`vectors/${name}`, PROTOCOL), 'utf8'));
}

/** Every golden frame of protocol/tests/golden/ as [file name, text]. */
export function goldenFrames() {
  const dir = new URL('tests/golden/', PROTOCOL);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => [name, readFileSync(new URL(name, dir), 'utf8').trimEnd()]);
}

/**
 * The string a vector input stands for: a string, or a list of parts (a
 * string, or { repeat, times }) joined.
 */
export function input(spec) {
  if (typeof spec === 'string') return spec;
  if (!Array.isArray(spec)) throw new TypeError(`not a vector input: ${JSON.stringify(spec)}`);
  return spec.map((part) => (typeof part === 'string' ? part : part.repeat.repeat(part.times))).join('');
}

/** A coordinate of a vector file: a number, or "NaN", "Infinity", "-Infinity". */
export function coordinate(v) {
  return typeof v === 'number' ? v : Number(v);
}

/** A short, printable description of an input for a failing assertion. */
export function show(spec) {
  const text = JSON.stringify(spec);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
