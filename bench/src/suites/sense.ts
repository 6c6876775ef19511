/**
 * Sense decodes per second, against the floor: reading the response code, sense key, ASC and
 * ASCQ bytes of a fixed-format buffer and looking the pair up in a Map (what any decoder must
 * at least do).
 */
import { ascAscqText, decodeSense, formatSenseLine } from '@sgv4/core';
import type { BenchSuite } from '../runner.js';

const fixed = Uint8Array.from(Buffer.from('f00003000012340a000000001100000000 00'.replace(/\s/g, ''), 'hex'));
const descriptor = Uint8Array.from(
  Buffer.from('72050024 00000014 000a8000 00000000 00001234 02060000 c0000200'.replace(/\s/g, ''), 'hex'),
);
const texts = new Map<number, string>([[0x1100, ascAscqText(0x11, 0)]]);
let sink = 0;

export const senseSuite: BenchSuite = {
  name: 'sense',
  description:
    'sense decodes per second (fixed, descriptor, with the one-line summary) vs raw byte reads + a Map lookup',
  baseline: 'raw key/asc/ascq + Map lookup',
  cases: [
    {
      name: 'raw key/asc/ascq + Map lookup',
      fn: () => {
        const key = (fixed[2] ?? 0) & 0xf;
        const text = texts.get(((fixed[12] ?? 0) << 8) | (fixed[13] ?? 0));
        sink ^= key + (text?.length ?? 0);
      },
    },
    {
      name: 'decodeSense fixed',
      fn: () => {
        sink ^= decodeSense(fixed).senseKey;
      },
    },
    {
      name: 'decodeSense descriptor',
      fn: () => {
        sink ^= decodeSense(descriptor).descriptors.length;
      },
    },
    {
      name: 'decodeSense + formatSenseLine',
      fn: () => {
        sink ^= formatSenseLine(decodeSense(fixed)).length;
      },
    },
  ],
  goals: { 'decodeSense fixed': 0.05 },
};

/** Keeps the results observable so the JIT cannot drop the work. */
export function senseSink(): number {
  return sink;
}
