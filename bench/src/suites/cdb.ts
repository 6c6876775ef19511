/**
 * CDB builds and decodes per second with the declarative field tables, against the floor:
 * a hand-written READ(10) (ten byte stores, no validation) into a fresh 10-byte array.
 */
import { buildCdb, decodeCdb } from '@sgv4/core';
import type { BenchSuite } from '../runner.js';

let sink = 0;
let lba = 0;

function handWrittenRead10(): Uint8Array {
  const cdb = new Uint8Array(10);
  lba = (lba + 8) >>> 0;
  cdb[0] = 0x28;
  cdb[1] = 0x08;
  cdb[2] = lba >>> 24;
  cdb[3] = (lba >>> 16) & 0xff;
  cdb[4] = (lba >>> 8) & 0xff;
  cdb[5] = lba & 0xff;
  cdb[7] = 0;
  cdb[8] = 8;
  return cdb;
}

const read10 = buildCdb('read10', { lba: 0x1234, transferLength: 8 });

export const cdbSuite: BenchSuite = {
  name: 'cdb',
  description: 'CDB builds/decodes per second via the field tables vs a hand-written READ(10) byte fill',
  baseline: 'hand-written READ(10)',
  cases: [
    {
      name: 'hand-written READ(10)',
      fn: () => {
        sink ^= handWrittenRead10()[5] ?? 0;
      },
    },
    {
      name: 'buildCdb read10',
      fn: () => {
        lba = (lba + 8) >>> 0;
        sink ^= buildCdb('read10', { lba, transferLength: 8, fua: 1 })[5] ?? 0;
      },
    },
    {
      name: 'buildCdb read16 (bigint LBA)',
      fn: () => {
        lba = (lba + 8) >>> 0;
        sink ^= buildCdb('read16', { lba: BigInt(lba) << 8n, transferLength: 8 })[9] ?? 0;
      },
    },
    {
      name: 'buildCdb inquiry',
      fn: () => {
        sink ^= buildCdb('inquiry', { allocationLength: 36 })[4] ?? 0;
      },
    },
    {
      name: 'decodeCdb read10',
      fn: () => {
        const d = decodeCdb(read10);
        if (d.key === 'read10') sink ^= d.fields.transferLength;
      },
    },
  ],
  goals: { 'buildCdb read10': 0.05 },
};

/** Keeps the results observable so the JIT cannot drop the work. */
export function cdbSink(): number {
  return sink;
}
