/**
 * Requests are checked against the LU's QueueLimits with the core's transfer model, so the
 * target refuses what Linux 6.1 would refuse — with the same errno and rule — before the
 * command reaches the logical unit. The Block Limits VPD page reports the same limits.
 */
import {
  defaultQueueLimits,
  InvalidFieldError,
  parseVpdPage,
  planTransfer,
  setLogicalBlockSize,
  setMaxHwSectors,
  setMaxSegments,
} from '@sgv4/core';
import { describe, expect, it } from 'vitest';
import { createTarget } from '../../src/index.js';
import { Initiator } from '../support/initiator.js';

/** An HBA with 128 KiB transfers and 8 segments: small enough to hit every limit. */
const limits = setMaxSegments(setMaxHwSectors(defaultQueueLimits(), 256), 8);

async function open() {
  const target = await createTarget({ logicalUnits: [{ capacityBlocks: 4096, queueLimits: limits }] });
  const a = new Initiator(target, 'iqn.a');
  await a.clearUnitAttentions();
  let reached = 0;
  target.on('task-received', () => reached++);
  return { target, a, reached: () => reached };
}

describe('QueueLimits check (core planTransfer)', () => {
  it('bsg refuses a transfer beyond max_hw_sectors with EINVAL; block SG_IO with EIO; sg beyond its reserve rules', async () => {
    const { target, reached } = await open();
    const cdb = (blocks: number) => ({
      lun: 0,
      tag: 1n,
      cdb: Uint8Array.of(0x28, 0, 0, 0, 0, 0, 0, blocks >> 8, blocks & 0xff, 0),
    });
    const nexus = { initiator: 'iqn.a' };
    const tooBig = 512 * 512; // 256 KiB > 128 KiB
    for (const iface of ['bsg', 'block', 'sg'] as const) {
      const r = await target.execute(nexus, { ...cdb(512), dataInLength: tooBig, layout: { iface } });
      const plan = planTransfer({
        limits,
        iface,
        direction: 'from-device',
        iovecs: [{ address: 0x7f00_0000_0000, length: tooBig }],
      });
      expect(plan.outcome).toBe('refused');
      expect(r).toEqual({ outcome: 'rejected', errno: plan.refusal?.errno, rule: plan.refusal?.rule });
    }
    expect(reached()).toBe(0);
    // 128 KiB fits.
    const ok = await target.execute(nexus, { ...cdb(256), dataInLength: 256 * 512 });
    expect(ok).toMatchObject({ outcome: 'completed', status: 0 });
    expect(reached()).toBe(1);
    // No Linux path at all (layout null, e.g. the iSCSI portal): nothing to refuse.
    const network = await target.execute(nexus, { ...cdb(512), dataInLength: tooBig, layout: null });
    expect(network).toMatchObject({ outcome: 'completed', status: 0 });
    expect(reached()).toBe(2);
    await target.close();
  });

  it('refuses bidirectional data on bsg (EOPNOTSUPP, BIDI removed in 5.1) but maps it on block SG_IO', async () => {
    const { target, a } = await open();
    const r = await a.send(['read10', { lba: 0, transferLength: 1 }], {
      dataInLength: 512,
      dataOut: new Uint8Array(512),
    });
    expect(r).toMatchObject({ outcome: 'rejected', errno: 'EOPNOTSUPP' });
    await target.close();
  });

  it('checks an iovec layout: too many scattered pieces for max_segments is EINVAL on the block path', async () => {
    const { target } = await open();
    const nexus = { initiator: 'iqn.a' };
    // 16 page-sized pieces, each on its own non-adjacent page: 16 segments > max_segments 8.
    const iovecs = Array.from({ length: 16 }, (_, i) => ({ address: 0x10_0000 + i * 8192, length: 4096 }));
    const layout = { iface: 'block' as const, iovecs };
    const plan = planTransfer({
      limits,
      iface: 'block',
      direction: 'from-device',
      iovecs,
      dxferLength: 65536,
    });
    const r = await target.execute(nexus, {
      lun: 0,
      tag: 1n,
      cdb: Uint8Array.of(0x28, 0, 0, 0, 0, 0, 0, 0, 128, 0),
      dataInLength: 65536,
      layout,
    });
    expect(plan.outcome).toBe('refused');
    expect(r).toEqual({ outcome: 'rejected', errno: plan.refusal?.errno, rule: plan.refusal?.rule });
    // Contiguous pieces merge into few segments and pass.
    const merged = Array.from({ length: 16 }, (_, i) => ({ address: 0x10_0000 + i * 4096, length: 4096 }));
    const ok = await target.execute(nexus, {
      lun: 0,
      tag: 2n,
      cdb: Uint8Array.of(0x28, 0, 0, 0, 0, 0, 0, 0, 128, 0),
      dataInLength: 65536,
      layout: { iface: 'block', iovecs: merged },
    });
    expect(ok.outcome).toBe('completed');
    expect(() =>
      target.execute(nexus, {
        lun: 0,
        tag: 3n,
        cdb: Uint8Array.of(0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0),
        dataInLength: 512,
        layout: { iovecs: [{ address: -1, length: 512 }] },
      }),
    ).toThrow(InvalidFieldError);
    await target.close();
  });

  it('reports max_dev_sectors and io_opt in the Block Limits VPD page and enforces MAXIMUM TRANSFER LENGTH', async () => {
    const q = {
      ...setLogicalBlockSize(setMaxHwSectors(defaultQueueLimits(), 2048), 4096),
      maxDevSectors: 1024,
      ioOpt: 65536,
    };
    const target = await createTarget({
      logicalUnits: [{ blockSize: 4096, capacityBlocks: 1024, queueLimits: q }],
    });
    const a = new Initiator(target, 'iqn.a');
    await a.clearUnitAttentions();
    const page = parseVpdPage(
      0xb0,
      await a.good(['inquiry', { evpd: 1, pageCode: 0xb0, allocationLength: 64 }], { dataInLength: 64 }),
    );
    if (page.pageCode !== 0xb0) throw new Error('wrong page');
    // 1024 sectors of 512 = 128 blocks of 4096; io_opt 64 KiB = 16 blocks; granularity 1 block.
    expect(page.fields).toMatchObject({
      maximumTransferLength: 128,
      optimalTransferLength: 16,
      optimalTransferLengthGranularity: 1,
    });
    const s = await a.check(['read10', { lba: 0, transferLength: 129 }], { dataInLength: 129 * 4096 });
    expect(s.senseKeySpecific).toEqual({ kind: 'field-pointer', inCdb: true, fieldPointer: 7 });
    await a.good(['read10', { lba: 0, transferLength: 128 }], { dataInLength: 128 * 4096 });
    await target.close();
  });

  it('rejects QueueLimits that the kernel setters could never produce, and a block size mismatch', async () => {
    await expect(
      createTarget({ logicalUnits: [{ queueLimits: { ...limits, maxSegments: 0 } }] }),
    ).rejects.toThrow(/maxSegments/);
    await expect(createTarget({ logicalUnits: [{ blockSize: 4096, queueLimits: limits }] })).rejects.toThrow(
      /queueLimits\.logicalBlockSize: must equal blockSize/,
    );
  });
});
