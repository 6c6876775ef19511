import {
  applySdMaxSectors,
  defaultQueueLimits,
  InvalidFieldError,
  isLowBitMask,
  maxHwBytesU32,
  parseSysfsQueueLimits,
  QUEUE_LIMITS_PRESET_NAMES,
  queueLimitsPreset,
  queueLimitsViolations,
  queueMaxBytes,
  scsiQueueLimits,
  setLogicalBlockSize,
  setMaxHwSectors,
  setMaxSegmentSize,
  setMaxSegments,
  setSegmentBoundary,
  setVirtBoundary,
  updateDmaAlignment,
  updateDmaPad,
  validateQueueLimits,
} from '@sgv4/core';
import { describe, expect, it } from 'vitest';

describe('blk_set_default_limits (block/blk-settings.c)', () => {
  it('has the 6.1 defaults', () => {
    const l = defaultQueueLimits();
    expect(l).toMatchObject({
      maxSegments: 128,
      maxSegmentSize: 65536,
      segBoundaryMask: 0xffffffff,
      virtBoundaryMask: 0,
      dmaAlignment: 511,
      dmaPadMask: 0,
      maxSectors: 255,
      maxHwSectors: 255,
      logicalBlockSize: 512,
      physicalBlockSize: 512,
      ioMin: 512,
      maxDiscardSegments: 1,
    });
    expect(queueLimitsViolations(l)).toEqual([]);
  });
});

describe('setter clamping (block/blk-settings.c)', () => {
  const d = defaultQueueLimits();
  it.each([
    ['max_segments 0 -> 1', setMaxSegments(d, 0).maxSegments, 1],
    ['max_segments 64 kept', setMaxSegments(d, 64).maxSegments, 64],
    ['max_segment_size below PAGE_SIZE -> PAGE_SIZE', setMaxSegmentSize(d, 512).maxSegmentSize, 4096],
    ['max_segment_size 8192 kept', setMaxSegmentSize(d, 8192).maxSegmentSize, 8192],
    ['seg boundary below PAGE_SIZE-1 -> 4095', setSegmentBoundary(d, 0xff).segBoundaryMask, 4095],
    ['seg boundary 0xffff kept', setSegmentBoundary(d, 0xffff).segBoundaryMask, 0xffff],
    ['virt boundary forces UINT_MAX segment size', setVirtBoundary(d, 4095).maxSegmentSize, 0xffffffff],
    ['virt boundary 0 keeps segment size', setVirtBoundary(d, 0).maxSegmentSize, 65536],
    ['update dma alignment raises', updateDmaAlignment(d, 1023).dmaAlignment, 1023],
    ['update dma alignment never lowers', updateDmaAlignment(d, 3).dmaAlignment, 511],
    ['update dma pad raises', updateDmaPad(d, 3).dmaPadMask, 3],
  ])('%s', (_name, actual, expected) => {
    expect(actual).toBe(expected);
  });

  it('max_hw_sectors: floor to PAGE_SIZE/512, max_sectors capped at 2560', () => {
    expect(setMaxHwSectors(d, 4)).toMatchObject({ maxHwSectors: 8, maxSectors: 8 });
    expect(setMaxHwSectors(d, 1024)).toMatchObject({ maxHwSectors: 1024, maxSectors: 1024 });
    expect(setMaxHwSectors(d, 8192)).toMatchObject({ maxHwSectors: 8192, maxSectors: 2560 });
    // (2^23 << 9) wraps to 0 in 32 bits, so the floor fires.
    expect(setMaxHwSectors(d, 2 ** 23).maxHwSectors).toBe(8);
    expect(setMaxHwSectors(d, 0xffffffff).maxHwSectors).toBe(0xffffffff);
  });

  it('max_hw_sectors respects max_dev_sectors and rounds to the logical block size', () => {
    expect(setMaxHwSectors({ ...d, maxDevSectors: 100 }, 1024).maxSectors).toBe(100);
    const fourK = setLogicalBlockSize(d, 4096);
    expect(fourK).toMatchObject({ physicalBlockSize: 4096, ioMin: 4096, maxHwSectors: 248, maxSectors: 248 });
    expect(setMaxHwSectors(fourK, 1027)).toMatchObject({ maxHwSectors: 1024, maxSectors: 1024 });
  });

  it('queue_max_bytes caps at INT_MAX >> 9 sectors', () => {
    expect(queueMaxBytes({ ...d, maxSectors: 1024 })).toBe(512 * 1024);
    expect(queueMaxBytes({ ...d, maxSectors: 0xffffffff })).toBe((0x7fffffff >> 9) * 512);
    expect(maxHwBytesU32({ ...d, maxHwSectors: 0xffffffff })).toBe(0xfffffe00);
  });
});

describe('SCSI host derivation (__scsi_init_queue)', () => {
  it('applies midlayer defaults for a zeroed template', () => {
    const l = scsiQueueLimits({ sgTablesize: 128 });
    expect(l).toMatchObject({
      maxSegments: 128,
      maxHwSectors: 1024,
      maxSectors: 1024,
      maxSegmentSize: 65536,
      segBoundaryMask: 0xffffffff,
      dmaAlignment: 3,
    });
  });
  it('caps sg_tablesize at SG_MAX_SEGMENTS', () => {
    expect(scsiQueueLimits({ sgTablesize: 4096 }).maxSegments).toBe(2048);
    expect(scsiQueueLimits({ sgTablesize: 2000 }).maxSegments).toBe(2000);
  });
  it('uses dma_get_cache_alignment when larger than 4', () => {
    expect(scsiQueueLimits({ sgTablesize: 1 }, { dmaCacheAlignment: 64 }).dmaAlignment).toBe(63);
  });
  it('sd caps max_sectors below max_hw_sectors only', () => {
    const l = scsiQueueLimits({ sgTablesize: 1, maxSectors: 512 });
    expect(applySdMaxSectors(l, 1024).maxSectors).toBe(512);
  });
});

describe('presets', () => {
  it.each(QUEUE_LIMITS_PRESET_NAMES)('%s is valid', (name) => {
    expect(queueLimitsViolations(queueLimitsPreset(name).limits)).toEqual([]);
  });
  it('scsi-debug matches the sysfs values of the lab guest (checked there by conformance.lab.test.ts)', () => {
    const l = queueLimitsPreset('scsi-debug').limits;
    expect(l.maxSegments).toBe(2048);
    expect(l.maxSegmentSize).toBe(4294967295);
    expect(l.maxHwSectors >>> 1).toBe(2147483647);
    expect(l.maxSectors / 2).toBe(512);
    expect(l.dmaAlignment).toBe(3);
    expect(l.segBoundaryMask).toBe(4095);
  });
  it('nvme-like has a virt boundary and UINT_MAX segments', () => {
    expect(queueLimitsPreset('nvme-like').limits).toMatchObject({
      virtBoundaryMask: 4095,
      maxSegmentSize: 0xffffffff,
    });
  });
});

describe('sysfs parsing', () => {
  const files = {
    max_segments: '2048\n',
    max_segment_size: '4294967295\n',
    max_hw_sectors_kb: '2147483647\n',
    max_sectors_kb: '512\n',
    dma_alignment: '3\n',
    logical_block_size: '512\n',
    physical_block_size: '512\n',
    minimum_io_size: '512\n',
    optimal_io_size: '524288\n',
    virt_boundary_mask: '0\n',
    max_discard_segments: '1\n',
  };
  it('reads the scsi_debug directory and lists the assumed fields', () => {
    const r = parseSysfsQueueLimits(files, { segBoundaryMask: 4095 });
    const preset = queueLimitsPreset('scsi-debug').limits;
    // max_hw_sectors_kb shows sectors >> 1: the odd 0xFFFFFFFF reads back as 0xFFFFFFFE.
    expect(r.limits.maxHwSectors).toBe(0xfffffffe);
    expect({ ...r.limits, maxHwSectors: preset.maxHwSectors }).toEqual(preset);
    expect(r.assumed.map((a) => a.field)).toEqual([
      'segBoundaryMask',
      'dmaPadMask',
      'maxDevSectors',
      'bounceHighmem',
    ]);
  });
  it('reports a missing file as assumed', () => {
    const { max_segments: _omit, ...rest } = files;
    const r = parseSysfsQueueLimits(rest);
    expect(r.assumed[0]).toEqual({ field: 'maxSegments', value: 128 });
  });
  it('rejects text that is not a number, naming the file', () => {
    expect(() => parseSysfsQueueLimits({ ...files, max_segments: 'lots' })).toThrow(InvalidFieldError);
    try {
      parseSysfsQueueLimits({ ...files, max_segments: '-1' });
    } catch (e) {
      expect((e as InvalidFieldError).field).toBe('sysfs queue/max_segments');
    }
  });
});

describe('validation of impossible combinations', () => {
  const d = defaultQueueLimits();
  it.each([
    ['maxSegments', { ...d, maxSegments: 0 }],
    ['maxSegmentSize', { ...d, maxSegmentSize: 1024 }],
    ['segBoundaryMask', { ...d, segBoundaryMask: 0x1000 }],
    ['segBoundaryMask', { ...d, segBoundaryMask: 255 }],
    ['maxSegmentSize', { ...d, virtBoundaryMask: 4095 }],
    ['dmaAlignment', { ...d, dmaAlignment: 6 }],
    ['dmaAlignment', { ...d, dmaAlignment: 8191 }],
    ['logicalBlockSize', { ...d, logicalBlockSize: 1000 }],
    ['physicalBlockSize', { ...d, physicalBlockSize: 256 }],
    ['maxSectors', { ...d, maxSectors: 1024 }],
    ['maxHwSectors', { ...d, maxHwSectors: 4 }],
    ['maxSegments', { ...d, maxSegments: -1 }],
  ] as const)('%s is refused', (field, limits) => {
    expect(() => validateQueueLimits(limits)).toThrow(InvalidFieldError);
    expect(queueLimitsViolations(limits).map((e) => e.field)).toContain(field);
  });
  it('low-bit masks', () => {
    expect([0, 1, 3, 4095, 0xffffffff, Number.MAX_SAFE_INTEGER].every(isLowBitMask)).toBe(true);
    expect([2, 6, 4096, -1, 1.5].some(isLowBitMask)).toBe(false);
  });
});
