import {
  defaultQueueLimits,
  InvalidFieldError,
  identityPageFrames,
  maxSafeRequestBytes,
  planTransfer,
  type QueueLimits,
  queueLimitsPreset,
  scatteredPageFrames,
  scatterlistTableLayout,
  sgPoolSize,
  splitLargeTransfer,
  type TransferRequest,
  type UserIovec,
} from '@sgv4/core';
import { describe, expect, it } from 'vitest';

const scsiDebug = queueLimitsPreset('scsi-debug').limits;
const legacy = queueLimitsPreset('legacy-sg-all').limits;
const nvme = queueLimitsPreset('nvme-like').limits;
const unlimited = queueLimitsPreset('unlimited-hba').limits;

function block(limits: QueueLimits, iovecs: UserIovec[], extra: Partial<TransferRequest> = {}) {
  return planTransfer({ limits, iface: 'block', direction: 'from-device', iovecs, ...extra });
}

describe('copy rules of blk_rq_map_user_iov (block/blk-map.c)', () => {
  it('rq_map_data: sg without direct IO copies into its reserve; with direct IO it does not', () => {
    const iovecs = [{ address: 0x10000, length: 4096 }];
    const indirect = planTransfer({ limits: scsiDebug, iface: 'sg', direction: 'from-device', iovecs });
    expect(indirect).toMatchObject({ mode: 'copy', buffer: 'sg-reserve', sgDirectIo: false });
    expect(indirect.copyReason?.rule).toBe('rq-map-data');
    const direct = planTransfer({
      limits: scsiDebug,
      iface: 'sg',
      direction: 'from-device',
      iovecs,
      sg: { allowDio: true, directIo: true },
    });
    expect(direct).toMatchObject({ mode: 'zero-copy', buffer: 'user-pages', sgDirectIo: true });
  });

  it('highmem bounce fires only when the queue may bounce', () => {
    const iovecs = [{ address: 0x10000, length: 4096 }];
    expect(block({ ...scsiDebug, bounceHighmem: true }, iovecs).copyReason?.rule).toBe('bounce-highmem');
    expect(block(scsiDebug, iovecs).mode).toBe('zero-copy');
  });

  it('dma_alignment: a misaligned address or length copies, naming the iovec', () => {
    const d = defaultQueueLimits();
    expect(block(d, [{ address: 0x10200, length: 4096 }]).mode).toBe('zero-copy');
    const address = block(d, [{ address: 0x10001, length: 4096 }]);
    expect(address.copyReason).toMatchObject({
      rule: 'dma-alignment',
      iovecIndex: 0,
      part: 'address',
      mask: 511,
    });
    const length = block(d, [
      { address: 0x10000, length: 4096 },
      { address: 0x20000, length: 1000 },
    ]);
    expect(length.copyReason).toMatchObject({ rule: 'dma-alignment', iovecIndex: 1, part: 'length' });
    expect(block(scsiDebug, [{ address: 0x10004, length: 1000 }]).mode).toBe('zero-copy');
    expect(block(scsiDebug, [{ address: 0x10002, length: 1000 }]).mode).toBe('copy');
  });

  it('dma_pad_mask joins the alignment test and pads the last segment', () => {
    const padded = { ...scsiDebug, dmaAlignment: 0, dmaPadMask: 3 };
    const plan = block(padded, [{ address: 0x10000, length: 1022 }]);
    expect(plan.copyReason).toMatchObject({ rule: 'dma-alignment', part: 'length', mask: 3 });
    expect(plan.padLength).toBe(2);
    expect(plan.segments.at(-1)?.length).toBe(1024);
    expect(block(padded, [{ address: 0x10000, length: 1024 }]).padLength).toBe(0);
  });

  it('virt boundary: an interior gap copies, aligned neighbours do not', () => {
    const aligned = [
      { address: 0x1000, length: 4096 },
      { address: 0x8000, length: 4096 },
    ];
    expect(block(nvme, aligned).mode).toBe('zero-copy');
    const gap = block(nvme, [
      { address: 0x1000, length: 2048 },
      { address: 0x8000, length: 4096 },
    ]);
    expect(gap.copyReason).toMatchObject({ rule: 'virt-boundary-gap', iovecIndex: 1 });
    // The same gap is fine on a queue without a virt boundary.
    expect(block(scsiDebug, [{ address: 0x1000, length: 2048 }, aligned[1]!]).mode).toBe('zero-copy');
  });

  it('import_iovec: more than UIO_MAXIOV iovecs is EINVAL, 1024 is fine', () => {
    const many = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ address: 0x100000 + i * 8192, length: 512 }));
    expect(block(unlimited, many(1025)).refusal).toMatchObject({ errno: 'EINVAL' });
    expect(block(unlimited, many(1024)).outcome).toBe('mapped');
  });

  it('iovecs are truncated to dxfer_len (the shorter wins)', () => {
    const plan = block(
      scsiDebug,
      [
        { address: 0x10000, length: 4096 },
        { address: 0x20000, length: 4096 },
      ],
      { dxferLength: 5000 },
    );
    expect(plan.length).toBe(5000);
    expect(plan.segments.map((s) => s.length)).toEqual([4096, 904]);
  });
});

describe('segments after bio building and __blk_rq_map_sg', () => {
  it('physically contiguous pages merge up to max_segment_size', () => {
    const plan = block(legacy, [{ address: 0x100000, length: 131072 }], { pageFrames: identityPageFrames });
    expect(plan.segments.map((s) => s.length)).toEqual([65536, 65536]);
    expect(plan.nrPhysSegments).toBe(2);
  });
  it('scattered pages stay one segment each', () => {
    const plan = block(legacy, [{ address: 0x100000, length: 131072 }], { pageFrames: scatteredPageFrames });
    expect(plan.segments).toHaveLength(32);
  });
  it('no segment crosses the seg_boundary_mask', () => {
    const limits = { ...unlimited, segBoundaryMask: 0xffff };
    const plan = block(limits, [{ address: 0xf000, length: 8192 }]);
    expect(plan.segments.map((s) => [s.physicalAddress, s.length])).toEqual([
      [0xf000, 4096],
      [0x10000, 4096],
    ]);
    expect(block(unlimited, [{ address: 0xf000, length: 8192 }]).segments).toHaveLength(1);
  });
  it('scsi_debug (boundary PAGE_SIZE-1) gets one segment per page, offsets below PAGE_SIZE', () => {
    const plan = block(scsiDebug, [{ address: 0x10100, length: 8192 }]);
    expect(plan.segments.map((s) => [s.pageOffset, s.length])).toEqual([
      [0x100, 3840],
      [0, 4096],
      [0, 256],
    ]);
  });
  it('bios hold at most BIO_MAX_VECS bvecs; bios merge in __blk_rq_map_sg when contiguous', () => {
    const plan = block(unlimited, [{ address: 0x100000, length: 300 * 4096 }], {
      pageFrames: scatteredPageFrames,
    });
    expect(plan.bios.map((b) => b.length)).toEqual([256, 44]);
    const merged = block(
      { ...unlimited, maxSegmentSize: 4096 * 300 },
      [{ address: 0x100000, length: 300 * 4096 }],
      { pageFrames: identityPageFrames },
    );
    expect(merged.bios).toHaveLength(1);
    expect(merged.segments).toHaveLength(1);
  });
  it('max_segments: one more scattered page than segments is EINVAL', () => {
    const limits = { ...unlimited, maxSegments: 16 };
    const ok = block(limits, [{ address: 0x100000, length: 16 * 4096 }], { pageFrames: scatteredPageFrames });
    expect(ok.nrPhysSegments).toBe(16);
    const tooMany = block(limits, [{ address: 0x100000, length: 17 * 4096 }], {
      pageFrames: scatteredPageFrames,
    });
    expect(tooMany.refusal?.errno).toBe('EINVAL');
    expect(tooMany.refusal?.rule).toMatch(/max_segments/);
  });
});

describe('too-large requests per interface (sg.c sg_common_write, scsi_ioctl.c sg_io, scsi_bsg.c)', () => {
  const d = defaultQueueLimits(); // max_hw_sectors 255 = 130560 bytes
  const big = [{ address: 0x100000, length: 131072 }];
  const fits = [{ address: 0x100000, length: 130560 }];
  it('block SG_IO: EIO above max_hw_sectors << 9', () => {
    expect(block(d, big).refusal?.errno).toBe('EIO');
    expect(block(d, fits).outcome).toBe('mapped');
  });
  it('bsg: no own check, the bio limit gives EINVAL', () => {
    const bsg = (iovecs: UserIovec[]) =>
      planTransfer({ limits: d, iface: 'bsg', direction: 'from-device', iovecs });
    expect(bsg(big).refusal?.errno).toBe('EINVAL');
    expect(bsg(fits).outcome).toBe('mapped');
  });
  it('sg: indirect buffer beyond sg_tablesize x element is ENOMEM; >= 256 MiB is EINVAL', () => {
    const sg = (length: number) =>
      planTransfer({
        limits: legacy,
        iface: 'sg',
        direction: 'from-device',
        iovecs: [{ address: 0, length }],
      });
    expect(sg(128 * 32768 + 512).refusal?.errno).toBe('ENOMEM');
    expect(sg(256 * 1024 * 1024).refusal?.errno).toBe('EINVAL');
    // 512 KiB fits the 128 x 32 KiB indirect buffer and max_hw_sectors 1024.
    expect(sg(512 * 1024).outcome).toBe('mapped');
    // Beyond max_hw_sectors the copy bios fail: EINVAL from blk_rq_append_bio.
    expect(sg(1024 * 1024).refusal?.errno).toBe('EINVAL');
  });
  it('bsg refuses bidi with EOPNOTSUPP; block refuses data without a direction', () => {
    const iovecs = [{ address: 0x1000, length: 512 }];
    expect(
      planTransfer({ limits: d, iface: 'bsg', direction: 'to-from-device', iovecs }).refusal?.errno,
    ).toBe('EOPNOTSUPP');
    expect(block(d, iovecs, { direction: 'none' }).refusal?.errno).toBe('EINVAL');
    expect(block(d, iovecs, { direction: 'none', dxferLength: 0 }).outcome).toBe('no-data');
  });
  it('bad input is a typed error', () => {
    expect(() => block(d, [{ address: -1, length: 1 }])).toThrow(InvalidFieldError);
    expect(() => block(d, [])).toThrow(InvalidFieldError);
    expect(() => block(d, [{ address: 0, length: 1 }], { pageSize: 1000 })).toThrow(InvalidFieldError);
    expect(() =>
      planTransfer({
        limits: d,
        iface: 'bsg',
        direction: 'from-device',
        iovecs: [
          { address: 0, length: 512 },
          { address: 4096, length: 512 },
        ],
      }),
    ).toThrow(InvalidFieldError);
  });
});

describe('chained scatterlist tables (lib/sg_pool.c, SCSI_INLINE_SG_CNT 2)', () => {
  it('pool sizes', () => {
    expect([1, 8, 9, 16, 17, 33, 65, 128].map(sgPoolSize)).toEqual([8, 8, 16, 16, 32, 64, 128, 128]);
  });
  it('<= 2 entries stay inline', () => {
    expect(scatterlistTableLayout(2).chunks).toEqual([
      { source: 'inline', slots: 2, dataEntries: 2, chained: false },
    ]);
  });
  it('3 entries: inline chunk of 1 + link, then an sgpool-8 chunk', () => {
    expect(scatterlistTableLayout(3).chunks).toEqual([
      { source: 'inline', slots: 2, dataEntries: 1, chained: true },
      { source: 'sgpool-8', slots: 8, dataEntries: 2, chained: false },
    ]);
  });
  it('130 entries: inline 1, then 127 + link, then 2', () => {
    const t = scatterlistTableLayout(130);
    expect(t.chunks.map((c) => [c.source, c.dataEntries])).toEqual([
      ['inline', 1],
      ['sgpool-128', 127],
      ['sgpool-8', 2],
    ]);
    expect(t.chainLinks).toBe(2);
  });
  it('2048 entries hold exactly 2048 data entries', () => {
    const t = scatterlistTableLayout(2048);
    expect(t.chunks.reduce((n, c) => n + c.dataEntries, 0)).toBe(2048);
  });
});

describe('splitting large transfers', () => {
  it('uses the fewest requests the limits allow', () => {
    const max = maxSafeRequestBytes(scsiDebug);
    expect(max).toBe(2047 * 4096);
    const chunks = splitLargeTransfer(scsiDebug, { lba: 10n, blocks: 100000n });
    expect(chunks).toHaveLength(Math.ceil(100000 / Math.floor(max / 512)));
    expect(chunks[0]).toEqual({ lba: 10n, blocks: 16376, bytes: 16376 * 512 });
  });
  it('the CDB block count can be the binding limit', () => {
    const chunks = splitLargeTransfer(scsiDebug, { lba: 0n, blocks: 300n, maxBlocksPerCommand: 128 });
    expect(chunks.map((c) => c.blocks)).toEqual([128, 128, 44]);
  });
  it('a zero-length transfer needs no request; an impossible block size is refused', () => {
    expect(splitLargeTransfer(scsiDebug, { lba: 0n, blocks: 0n })).toEqual([]);
    expect(() => splitLargeTransfer(scsiDebug, { lba: 0n, blocks: 1n, maxBytesPerRequest: 100 })).toThrow(
      InvalidFieldError,
    );
  });
});
