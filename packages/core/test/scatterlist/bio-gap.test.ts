/**
 * bio_will_gap (Linux 6.1 block/blk-merge.c) and bvec_gap_to_prev (block/blk.h): the
 * virt-boundary rules as bios are built and joined into a passthrough request.
 */
import {
  type Bvec,
  bioWillGap,
  bvecGapToPrev,
  defaultQueueLimits,
  type PageFrameMapping,
  planTransfer,
  type QueueLimits,
  scatteredPageFrames,
  setDmaAlignment,
  setMaxHwSectors,
  setMaxSegments,
  setVirtBoundary,
} from '@sgv4/core';
import { describe, expect, it } from 'vitest';

const MIB = 1024 * 1024;

/** A virt-boundary queue with more than 256 segments (an NVMe-like HBA behind SCSI). */
const virtWide: QueueLimits = setDmaAlignment(
  setVirtBoundary(setMaxSegments(setMaxHwSectors(defaultQueueLimits(), 8192), 512), 4095),
  3,
);

function bvec(physicalAddress: number, pageOffset: number, length: number): Bvec {
  return { physicalAddress, pageOffset, length, requestOffset: 0 };
}

describe('bio_will_gap (block/blk-merge.c) when bios join a request', () => {
  it("refuses a second bio when the request's first bvec starts off the boundary (the issue's example)", () => {
    const iovecs = [{ address: 0x10200, length: 1.5 * MIB }];
    const offset512 = planTransfer({
      limits: virtWide,
      iface: 'block',
      direction: 'from-device',
      iovecs,
      pageFrames: scatteredPageFrames,
    });
    expect(offset512.mode).toBe('zero-copy');
    expect(offset512.refusal).toMatchObject({ errno: 'EINVAL', id: 'bio-virt-boundary-gap' });
    expect(offset512.refusal?.rule).toMatch(/page offset 512/);
    // The same request from a page-aligned buffer: every bio starts on the boundary.
    const aligned = planTransfer({
      limits: virtWide,
      iface: 'block',
      direction: 'from-device',
      iovecs: [{ address: 0x10000, length: 1.5 * MIB }],
      pageFrames: scatteredPageFrames,
    });
    expect(aligned.outcome).toBe('mapped');
    expect(aligned.bios.length).toBe(2);
    // One bio (<= 256 pages) never meets the rule, whatever its first offset.
    const oneBio = planTransfer({
      limits: virtWide,
      iface: 'block',
      direction: 'from-device',
      iovecs: [{ address: 0x10200, length: 512 * 1024 }],
      pageFrames: scatteredPageFrames,
    });
    expect(oneBio.outcome).toBe('mapped');
  });

  it('skips the gap test when the two bvecs are physically mergeable, and needs a virt boundary', () => {
    const first = bvec(0x10000, 0, 4096);
    const previous = bvec(0x20000, 0, 0x800);
    const contiguous = bvec(0x20800, 0x800, 0x800);
    const apart = bvec(0x30800, 0x800, 0x800);
    expect(bioWillGap(virtWide, first, previous, contiguous)).toBe(false);
    expect(bioWillGap(virtWide, first, previous, apart)).toBe(true);
    expect(bioWillGap(defaultQueueLimits(), first, previous, apart)).toBe(false);
    expect(
      bioWillGap(virtWide, bvec(0x10200, 0x200, 3584), bvec(0x20000, 0, 4096), bvec(0x40000, 0, 4096)),
    ).toBe(true);
  });

  it('masks page offsets (bv_offset + bv_len), not physical addresses', () => {
    const wide = setVirtBoundary(defaultQueueLimits(), 0xffff);
    // 16 merged pages from offset 0: bv_offset + bv_len = 64 KiB is on the boundary,
    // though the physical end (frame 1 + 16 pages) is not.
    const merged = bvec(0x1000, 0, 0x10000);
    expect(bvecGapToPrev(wide, merged, 0)).toBe(false);
    expect(bvecGapToPrev(wide, bvec(0x10000, 0, 0x1000), 0)).toBe(true);
    // Through the planner: 16 contiguous pages then one elsewhere stay in one bio.
    const frames: PageFrameMapping = {
      name: 'sixteen-then-apart',
      toPhysical: (page) => (page < 0x100 + 16 ? page - 0x100 + 1 : page * 4 + 7),
      toVirtual: () => undefined,
    };
    const plan = planTransfer({
      limits: setDmaAlignment(wide, 3),
      iface: 'block',
      direction: 'from-device',
      iovecs: [{ address: 0x100000, length: 17 * 4096 }],
      pageFrames: frames,
    });
    expect(plan.outcome).toBe('mapped');
    expect(plan.bios).toHaveLength(1);
    expect(plan.bios[0]?.map((b) => [b.pageOffset, b.length])).toEqual([
      [0, 0x10000],
      [0, 4096],
    ]);
  });
});
