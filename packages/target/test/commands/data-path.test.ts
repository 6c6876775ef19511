/**
 * The block commands on memory and file backing: writes then reads round-trip (property, with
 * concurrent overlapping writes and latency jitter), the 6/10/12/16 variants, range checks,
 * VERIFY / WRITE AND VERIFY / COMPARE AND WRITE, WRITE SAME / UNMAP / GET LBA STATUS,
 * residuals, and a file image that survives a restart.
 */

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScsiStatus } from '@sgv4/core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createTarget, type LogicalUnitOptions } from '../../src/index.js';
import { hex, Initiator, pattern } from '../support/initiator.js';

const dir = mkdtempSync(join(tmpdir(), 'sgv4-target-data-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const BACKINGS: [string, () => LogicalUnitOptions['backing']][] = [
  ['memory', () => ({ kind: 'memory' })],
  ['file', () => ({ kind: 'file', path: join(dir, `lu${files++}.img`) })],
];

async function open(options: LogicalUnitOptions = {}) {
  const target = await createTarget({ logicalUnits: [{ capacityBlocks: 1024, ...options }] });
  const a = new Initiator(target, 'iqn.a');
  await a.clearUnitAttentions();
  return { target, a, bs: target.describe(0).blockSize };
}

describe.each(BACKINGS)('%s backing', (_name, backing) => {
  it('writes then reads round-trip, with concurrent overlapping writes and jitter (property)', async () => {
    for (const blockSize of [512, 4096] as const) {
      const { target, a, bs } = await open({ backing: backing(), blockSize, capacityBlocks: 64 });
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              lba: fc.integer({ min: 0, max: 60 }),
              blocks: fc.integer({ min: 1, max: 4 }),
              seed: fc.nat(),
            }),
            { minLength: 1, maxLength: 12 },
          ),
          fc.constantFrom('write10', 'write16', 'write12', 'write6'),
          async (writes, command) => {
            await target.configure(0, { latency: { nanoseconds: 0, jitterNanoseconds: 300_000 } });
            const model = new Uint8Array(64 * bs);
            const before = await a.good(['read16', { lba: 0n, transferLength: 64 }], {
              dataInLength: 64 * bs,
            });
            model.set(before);
            // All writes are in flight together; restricted reordering keeps overlapping ones in order.
            await Promise.all(
              writes.map((w) => {
                const data = pattern(w.blocks * bs, w.seed);
                model.set(data, w.lba * bs);
                const lba = command === 'write16' ? BigInt(w.lba) : w.lba;
                return a.good([command, { lba, transferLength: w.blocks }], { dataOut: data });
              }),
            );
            const after = await a.good(['read10', { lba: 0, transferLength: 64 }], { dataInLength: 64 * bs });
            expect(Buffer.from(after).equals(Buffer.from(model))).toBe(true);
          },
        ),
        { numRuns: 15 },
      );
      await target.close();
    }
  });

  it('READ(6)/WRITE(6) take 0 as 256 blocks; every variant checks the LBA range', async () => {
    const { target, a, bs } = await open({ backing: backing() });
    const data = pattern(256 * bs, 7);
    await a.good(['write6', { lba: 10, transferLength: 0 }], { dataOut: data });
    expect(hex(await a.good(['read6', { lba: 10, transferLength: 0 }], { dataInLength: 256 * bs }))).toBe(
      hex(data),
    );
    for (const [key, lba] of [
      ['read6', 1023],
      ['read10', 1024],
      ['read12', 1023],
      ['read16', 0xffff_ffff_ffff_ffffn],
      ['write10', 1024],
    ] as const) {
      const io = key.startsWith('write') ? { dataOut: new Uint8Array(2 * bs) } : { dataInLength: 2 * bs };
      const s = await a.check([key, { lba, transferLength: 2 }], io);
      expect([key, s.senseKeyName, s.asc, s.ascq]).toEqual([key, 'Illegal Request', 0x21, 0x00]);
    }
    // 0 blocks at the capacity is fine, one past it is not (libiscsi Read10.0blocks).
    await a.good(['read10', { lba: 1024, transferLength: 0 }]);
    expect((await a.check(['read10', { lba: 1025, transferLength: 0 }])).asc).toBe(0x21);
    await target.close();
  });

  it('RDPROTECT/WRPROTECT are INVALID FIELD IN CDB (no protection information); DPO and FUA are honoured', async () => {
    const { target, a } = await open({ backing: backing() });
    const s = await a.check(['read10', { lba: 0, transferLength: 1, rdprotect: 1 }], { dataInLength: 512 });
    expect(s.senseKeySpecific).toEqual({
      kind: 'field-pointer',
      inCdb: true,
      fieldPointer: 1,
      bitPointer: 7,
    });
    const data = pattern(512, 3);
    await a.good(['write10', { lba: 3, transferLength: 1, fua: 1, dpo: 1 }], { dataOut: data });
    expect(
      hex(await a.good(['read10', { lba: 3, transferLength: 1, fua: 1, dpo: 1 }], { dataInLength: 512 })),
    ).toBe(hex(data));
    await a.good(['write16', { lba: 4n, transferLength: 1, fua: 1 }], { dataOut: data });
    await target.close();
  });

  it('VERIFY compares with BYTCHK 1 and 3 and reports the MISCOMPARE offset', async () => {
    const { target, a } = await open({ backing: backing() });
    const data = pattern(2048, 9);
    await a.good(['write10', { lba: 100, transferLength: 4 }], { dataOut: data });
    await a.good(['verify10', { lba: 100, verificationLength: 4 }]);
    await a.good(['verify16', { bytchk: 1, lba: 100n, verificationLength: 4 }], { dataOut: data });
    const wrong = data.slice();
    wrong[1234] = (wrong[1234] ?? 0) ^ 0xff;
    const s = await a.check(['verify12', { bytchk: 1, lba: 100, verificationLength: 4 }], { dataOut: wrong });
    expect(hex(s.raw)).toBe('f0000e000004d20a000000001d0000000000');
    await a.good(['write-same10', { lba: 200, numberOfBlocks: 3 }], { dataOut: data.subarray(0, 512) });
    await a.good(['verify10', { bytchk: 3, lba: 200, verificationLength: 3 }], {
      dataOut: data.subarray(0, 512),
    });
    expect(
      (await a.check(['verify10', { bytchk: 2, lba: 200, verificationLength: 3 }])).senseKeySpecific,
    ).toEqual({
      kind: 'field-pointer',
      inCdb: true,
      fieldPointer: 1,
      bitPointer: 2,
    });
    await target.close();
  });

  it('WRITE AND VERIFY writes durably and verifies with BYTCHK 1', async () => {
    const { target, a } = await open({ backing: backing() });
    const data = pattern(1024, 11);
    await a.good(['write-verify10', { lba: 5, transferLength: 2, bytchk: 1 }], { dataOut: data });
    await a.good(['write-verify16', { lba: 7n, transferLength: 2 }], { dataOut: data });
    expect(hex(await a.good(['read10', { lba: 5, transferLength: 4 }], { dataInLength: 2048 }))).toBe(
      hex(data) + hex(data),
    );
    await target.close();
  });

  it('COMPARE AND WRITE writes when equal and reports MISCOMPARE (offset) otherwise, atomically', async () => {
    const { target, a } = await open({
      backing: backing(),
      latency: { nanoseconds: 0, jitterNanoseconds: 200_000 },
    });
    const old = pattern(1024, 1);
    const next = pattern(1024, 2);
    await a.good(['write10', { lba: 8, transferLength: 2 }], { dataOut: old });
    await a.good(['compare-and-write', { lba: 8n, numberOfBlocks: 2 }], {
      dataOut: Buffer.concat([old, next]),
    });
    const s = await a.check(['compare-and-write', { lba: 8n, numberOfBlocks: 2 }], {
      dataOut: Buffer.concat([old, next]),
    });
    const at = old.findIndex((b, i) => b !== next[i]);
    expect([s.senseKeyName, s.asc, s.information]).toEqual(['Miscompare', 0x1d, BigInt(at)]);
    // Ten initiators race to swap 0 -> their value: exactly one wins (atomic compare and write).
    const zeros = new Uint8Array(512);
    await a.good(['write10', { lba: 50, transferLength: 1 }], { dataOut: zeros });
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        new Initiator(target, `iqn.racer${i}`).send(['compare-and-write', { lba: 50n, numberOfBlocks: 1 }], {
          dataOut: Buffer.concat([zeros, pattern(512, 100 + i)]),
        }),
      ),
    );
    // Each racer's first command gets its power-on unit attention; retry those once.
    const statuses = outcomes.map((r) => (r.outcome === 'completed' ? r.status : -1));
    expect(statuses.every((x) => x === ScsiStatus.CHECK_CONDITION)).toBe(true);
    const second = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        new Initiator(target, `iqn.racer${i}`).run(['compare-and-write', { lba: 50n, numberOfBlocks: 1 }], {
          dataOut: Buffer.concat([zeros, pattern(512, 100 + i)]),
        }),
      ),
    );
    expect(second.filter((r) => r.status === ScsiStatus.GOOD)).toHaveLength(1);
    expect(second.filter((r) => r.status === ScsiStatus.CHECK_CONDITION)).toHaveLength(9);
    const winner = second.findIndex((r) => r.status === ScsiStatus.GOOD);
    expect(hex(await a.good(['read10', { lba: 50, transferLength: 1 }], { dataInLength: 512 }))).toBe(
      hex(pattern(512, 100 + winner)),
    );
    expect(
      (
        await a.check(['compare-and-write', { lba: 8n, numberOfBlocks: 0xff + 0 }], {
          dataOut: new Uint8Array(0),
        })
      ).asc,
    ).toBe(0x0e);
    await target.close();
  });

  it('WRITE SAME writes the pattern, deallocates zeros with UNMAP, and honours NDOB and the length limits', async () => {
    const { target, a } = await open({ backing: backing() });
    const block = pattern(512, 5);
    await a.good(['write-same16', { lba: 10n, numberOfBlocks: 20 }], { dataOut: block });
    const back = await a.good(['read10', { lba: 10, transferLength: 20 }], { dataInLength: 20 * 512 });
    for (let i = 0; i < 20; i++) expect(hex(back.subarray(i * 512, (i + 1) * 512))).toBe(hex(block));
    await a.good(['write-same10', { lba: 12, numberOfBlocks: 4, unmap: 1 }], {
      dataOut: new Uint8Array(512),
    });
    await a.good(['write-same16', { lba: 20n, numberOfBlocks: 2, unmap: 1, ndob: 1 }]);
    const status = await a.good(['get-lba-status', { lba: 10n, allocationLength: 8 + 16 * 5 }], {
      dataInLength: 88,
    });
    expect(hex(status.subarray(8, 8 + 16 * 4))).toBe(
      [
        '000000000000000a 00000002 00 000000',
        '000000000000000c 00000004 01 000000',
        '0000000000000010 00000004 00 000000',
        '0000000000000014 00000002 01 000000',
      ]
        .join('')
        .replace(/\s+/g, ''),
    );
    // WSNZ = 0: 0 blocks means "to the end", beyond MAXIMUM WRITE SAME LENGTH on a big LU.
    await a.good(['write-same10', { lba: 1000, numberOfBlocks: 0 }], { dataOut: block });
    expect((await a.check(['write-same10', { lba: 1000, numberOfBlocks: 25 }], { dataOut: block })).asc).toBe(
      0x21,
    );
    expect(
      (await a.check(['write-same10', { lba: 0, numberOfBlocks: 1, anchor: 1 }], { dataOut: block }))
        .senseKeySpecific,
    ).toMatchObject({
      fieldPointer: 1,
      bitPointer: 4,
    });
    await target.close();
  });

  it('UNMAP deallocates, checks every descriptor first, and GET LBA STATUS beyond the end is LBA OUT OF RANGE', async () => {
    const { target, a } = await open({ backing: backing() });
    await a.good(['write10', { lba: 0, transferLength: 64 }], { dataOut: pattern(64 * 512, 1) });
    const list = (ranges: [number, number][]) => {
      const out = new Uint8Array(8 + 16 * ranges.length);
      const v = new DataView(out.buffer);
      v.setUint16(0, 6 + 16 * ranges.length);
      v.setUint16(2, 16 * ranges.length);
      ranges.forEach(([lba, n], i) => {
        v.setBigUint64(8 + 16 * i, BigInt(lba));
        v.setUint32(16 + 16 * i, n);
      });
      return out;
    };
    const good = list([
      [4, 4],
      [20, 2],
    ]);
    await a.good(['unmap', { parameterListLength: good.length }], { dataOut: good });
    const bad = list([
      [30, 2],
      [1023, 2],
    ]);
    expect((await a.check(['unmap', { parameterListLength: bad.length }], { dataOut: bad })).asc).toBe(0x21);
    const data = await a.good(['read10', { lba: 0, transferLength: 32 }], { dataInLength: 32 * 512 });
    expect(data.subarray(4 * 512, 8 * 512).every((b) => b === 0)).toBe(true);
    expect(data.subarray(30 * 512, 32 * 512).some((b) => b !== 0)).toBe(true); // the bad list changed nothing
    await a.good(['unmap', { parameterListLength: 0 }]);
    expect((await a.check(['unmap', { parameterListLength: 4 }], { dataOut: new Uint8Array(4) })).asc).toBe(
      0x1a,
    );
    for (const lba of [1024n, 1025n, 1n << 63n, (1n << 64n) - 1n]) {
      const s = await a.check(['get-lba-status', { lba, allocationLength: 24 }], { dataInLength: 24 });
      expect([s.asc, s.ascq]).toEqual([0x21, 0x00]);
    }
    await target.close();
  });

  it('SYNCHRONIZE CACHE and PRE-FETCH check the range; PRE-FETCH answers CONDITION MET', async () => {
    const { target, a } = await open({ backing: backing() });
    await a.good(['sync-cache10', { lba: 0, numberOfBlocks: 0 }]);
    await a.good(['sync-cache16', { immed: 1, lba: 10n, numberOfBlocks: 10 }]);
    expect((await a.check(['sync-cache10', { lba: 1020, numberOfBlocks: 10 }])).asc).toBe(0x21);
    expect((await a.run(['prefetch10', { lba: 0, prefetchLength: 16 }])).status).toBe(
      ScsiStatus.CONDITION_MET,
    );
    expect((await a.run(['prefetch16', { immed: 1, lba: 0n, prefetchLength: 0 }])).status).toBe(
      ScsiStatus.CONDITION_MET,
    );
    expect((await a.check(['prefetch10', { lba: 1024, prefetchLength: 1 }])).asc).toBe(0x21);
    await target.close();
  });

  it('COMPARE AND WRITE and WRITE SAME refuse a Data-Out Buffer of the wrong size either way (InvalidDataOutSize)', async () => {
    const { target, a } = await open({ backing: backing() });
    for (const blocks of [1, 3]) {
      const s = await a.check(['compare-and-write', { lba: 0n, numberOfBlocks: blocks }], {
        dataOut: new Uint8Array(4 * 512),
      });
      expect([s.senseKeyName, s.asc, s.ascq]).toEqual(['Illegal Request', 0x0e, 0x03]);
    }
    const w = await a.check(['write-same10', { lba: 0, numberOfBlocks: 2 }], {
      dataOut: new Uint8Array(1024),
    });
    expect(w.asc).toBe(0x0e);
    await target.close();
  });

  it('reports data-out residuals; a data-out buffer shorter than the command is 0E/03 and writes nothing', async () => {
    const { target, a } = await open({ backing: backing() });
    await a.good(['write10', { lba: 0, transferLength: 1 }], { dataOut: new Uint8Array(512).fill(0x61) });
    const over = await a.run(['write10', { lba: 0, transferLength: 1 }], {
      dataOut: new Uint8Array(10000).fill(0x62),
    });
    expect([over.status, over.dataOutResidual]).toEqual([ScsiStatus.GOOD, 10000 - 512]);
    const short = await a.run(['write10', { lba: 1, transferLength: 2 }], {
      dataOut: new Uint8Array(200).fill(0x62),
    });
    expect([short.status, short.dataOutResidual]).toEqual([ScsiStatus.CHECK_CONDITION, 200 - 1024]);
    expect(hex(short.sense)).toBe('700005000000000a000000000e0300000000');
    expect(
      (await a.good(['read10', { lba: 1, transferLength: 1 }], { dataInLength: 512 })).every((b) => b === 0),
    ).toBe(true);
    const r = await a.run(['read10', { lba: 0, transferLength: 2 }], { dataInLength: 512 });
    expect([r.dataIn.length, r.dataInResidual]).toEqual([512, -512]);
    await target.close();
  });
});

describe('file backing', () => {
  it('keeps the data (and the provisioning it can see) across a restart', async () => {
    const path = join(dir, 'restart.img');
    const data = pattern(8 * 4096, 77);
    {
      const target = await createTarget({
        logicalUnits: [{ backing: { kind: 'file', path }, blockSize: 4096, capacityBlocks: 256 }],
      });
      const a = new Initiator(target, 'iqn.a');
      await a.clearUnitAttentions();
      await a.good(['write10', { lba: 100, transferLength: 8 }], { dataOut: data });
      await a.good(['write-same10', { lba: 108, numberOfBlocks: 4, unmap: 1 }], {
        dataOut: new Uint8Array(4096),
      });
      await a.good(['sync-cache10']);
      await target.close();
    }
    expect(statSync(path).size).toBe(256 * 4096);
    expect(hex(readFileSync(path).subarray(100 * 4096, 108 * 4096))).toBe(hex(data));
    const target = await createTarget({
      logicalUnits: [{ backing: { kind: 'file', path }, blockSize: 4096 }],
    });
    expect(target.describe(0).capacityBlocks).toBe(256n); // the image's size
    const a = new Initiator(target, 'iqn.a');
    await a.clearUnitAttentions();
    expect(hex(await a.good(['read10', { lba: 100, transferLength: 8 }], { dataInLength: 8 * 4096 }))).toBe(
      hex(data),
    );
    const status = await a.good(['get-lba-status', { lba: 99n, allocationLength: 56 }], { dataInLength: 56 });
    expect(hex(status.subarray(8))).toBe(
      '0000000000000063000000010100000000000000000000640000000800000000000000000000006c0000009401000000',
    );
    await target.close();
  });

  it('a backing path that cannot be opened rejects creation', async () => {
    await expect(
      createTarget({
        logicalUnits: [{ backing: { kind: 'file', path: join(dir, 'no', 'such', 'dir', 'x.img') } }],
      }),
    ).rejects.toThrow(/ENOENT/);
  });
});
