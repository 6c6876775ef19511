import {
  defaultQueueLimits,
  InvalidFieldError,
  pageOrder,
  queueLimitsPreset,
  roundUpToPage,
  type SgDataRequest,
  type SgEnvironment,
  sgBuildIndirect,
  sgBuildReserve,
  sgDirectIoDecision,
  sgGetReservedSize,
  sgMmap,
  sgMmapIoRefusal,
  sgOpenReserve,
  sgSetReservedSize,
} from '@sgv4/core';
import { describe, expect, it } from 'vitest';

const env: SgEnvironment = { limits: queueLimitsPreset('scsi-debug').limits };
const legacyEnv: SgEnvironment = { limits: queueLimitsPreset('legacy-sg-all').limits };

describe('reserve at open (sg_add_sfp / sg_build_reserve)', () => {
  it('defaults to 32 KiB', () => {
    const s = sgOpenReserve(env);
    expect(s.buffer).toMatchObject({ bufflen: 32768, elements: 1, pageOrder: 3, elementSize: 32768 });
    expect(sgGetReservedSize(s, env)).toBe(32768);
  });
  it('is clamped to max_sectors bytes', () => {
    const small: SgEnvironment = { limits: { ...defaultQueueLimits(), maxSectors: 32, maxHwSectors: 32 } };
    expect(sgOpenReserve(small).buffer.bufflen).toBe(16384);
  });
  it('halves on allocation failure while above PAGE_SIZE / 2', () => {
    expect(sgBuildReserve(32768, { ...env, allocator: { pagesAvailable: 4 } }).bufflen).toBe(16384);
    expect(sgBuildReserve(32768, { ...env, allocator: { pagesAvailable: 0 } }).bufflen).toBe(0);
    expect(sgBuildReserve(32768, env).bufflen).toBe(32768);
  });
  it('asks for at least PAGE_SIZE and rounds to 512', () => {
    expect(sgBuildReserve(1000, env).bufflen).toBe(4096);
    expect(sgBuildReserve(5000, env).bufflen).toBe(5120);
  });
});

describe('sg_build_indirect', () => {
  it('uses scatter_elem_sz elements, retrying lower orders', () => {
    expect(sgBuildIndirect(100000, env)).toMatchObject({ result: 0, buffer: { elements: 4, pageOrder: 3 } });
    expect(sgBuildIndirect(100000, { ...env, allocator: { maxOrder: 1 } })).toMatchObject({
      result: 0,
      buffer: { elements: 13, pageOrder: 1 },
    });
  });
  it('is ENOMEM beyond sg_tablesize x element size (no lower-order retry)', () => {
    expect(sgBuildIndirect(128 * 32768, legacyEnv).result).toBe(0);
    expect(sgBuildIndirect(128 * 32768 + 1, legacyEnv).result).toBe('ENOMEM');
  });
  it('get_order', () => {
    expect([1, 4096, 4097, 32768, 32769].map((n) => pageOrder(n))).toEqual([0, 0, 1, 3, 4]);
  });
});

describe('SG_SET_RESERVED_SIZE', () => {
  const open = sgOpenReserve(env);
  it('negative -> EINVAL', () => {
    expect(sgSetReservedSize(open, -1, env).result).toBe('EINVAL');
  });
  it('clamps to max_sectors bytes', () => {
    const out = sgSetReservedSize(open, 100_000_000, env);
    expect(out.result).toBe(0);
    expect(out.state.buffer.bufflen).toBe(512 * 1024);
  });
  it('same size is a no-op even after mmap', () => {
    const mapped = sgMmap(open, { length: 32768 }).state;
    expect(sgSetReservedSize(mapped, 32768, env).result).toBe(0);
  });
  it('a different size after mmap -> EBUSY (mmap_called is never cleared)', () => {
    const mapped = sgMmap(open, { length: 4096 }).state;
    expect(sgSetReservedSize(mapped, 65536, env).result).toBe('EBUSY');
  });
  it('a different size while in use -> EBUSY', () => {
    expect(sgSetReservedSize({ ...open, inUse: true }, 65536, env).result).toBe('EBUSY');
    expect(sgSetReservedSize(open, 65536, env).result).toBe(0);
  });
  it('compares against the rounded bufflen: 1000 rebuilds each time', () => {
    const once = sgSetReservedSize(open, 1000, env).state;
    expect(once.buffer.bufflen).toBe(4096);
    const mapped = sgMmap(once, { length: 4096 }).state;
    expect(sgSetReservedSize(mapped, 1000, env).result).toBe('EBUSY');
    expect(sgSetReservedSize(mapped, 4096, env).result).toBe(0);
  });
  it('rejects a non-integer as bad input', () => {
    expect(() => sgSetReservedSize(open, 1.5, env)).toThrow(InvalidFieldError);
  });
});

describe('sg_mmap', () => {
  const open = sgOpenReserve(env);
  it('offset -> EINVAL, beyond the reserve (in whole pages) -> ENOMEM, else sets mmap_called', () => {
    expect(sgMmap(open, { length: 4096, pageOffset: 1 }).result).toBe('EINVAL');
    expect(sgMmap(open, { length: 32769 }).result).toBe('ENOMEM');
    const ok = sgMmap(open, { length: 32768 });
    expect(ok.result).toBe(0);
    expect(ok.state.mmapCalled).toBe(true);
  });
  it('a 5000-byte reserve (5120) cannot be mapped with 5000 bytes: the VMA is 8192', () => {
    const s = sgSetReservedSize(open, 5000, env).state;
    expect(sgMmap(s, { length: 5000 }).result).toBe('ENOMEM');
    const rounded = sgSetReservedSize(open, roundUpToPage(5000), env).state;
    expect(sgMmap(rounded, { length: 5000 }).result).toBe(0);
  });
});

describe('SG_FLAG_MMAP_IO admission', () => {
  const open = sgOpenReserve(env);
  const req = (over: Partial<SgDataRequest>): SgDataRequest => ({
    dxferLength: 4096,
    direction: 'from-device',
    directIo: false,
    mmapIo: true,
    iovecCount: 0,
    dxferp: 0,
    ...over,
  });
  it.each([
    ['too large -> ENOMEM', req({ dxferLength: 32769 }), open, 'ENOMEM'],
    ['fits', req({ dxferLength: 32768 }), open, undefined],
    ['with DIRECT_IO -> EINVAL', req({ directIo: true }), open, 'EINVAL'],
    ['reserve in use -> EBUSY', req({}), { ...open, inUse: true }, 'EBUSY'],
    ['ENOMEM is checked before EINVAL', req({ dxferLength: 1 << 20, directIo: true }), open, 'ENOMEM'],
    ['not an mmap request', req({ mmapIo: false }), { ...open, inUse: true }, undefined],
  ] as const)('%s', (_name, request, state, errno) => {
    expect(sgMmapIoRefusal(request, state)?.errno).toBe(errno);
  });
});

describe('direct IO admission (sg_start_req)', () => {
  const limits = env.limits;
  const req = (over: Partial<SgDataRequest>): SgDataRequest => ({
    dxferLength: 4096,
    direction: 'from-device',
    directIo: true,
    mmapIo: false,
    iovecCount: 0,
    dxferp: 0x10000,
    ...over,
  });
  it.each([
    ['all conditions', req({}), true, true],
    ['allow_dio 0', req({}), false, false],
    ['no DIRECT_IO flag', req({ directIo: false }), true, false],
    ['direction unknown', req({ direction: 'unknown' }), true, false],
    ['iovec', req({ iovecCount: 2 }), true, false],
    ['misaligned address', req({ dxferp: 0x10002 }), true, false],
    ['misaligned length', req({ dxferLength: 4095 }), true, false],
    ['address aligned to 4 is enough', req({ dxferp: 0x10004, dxferLength: 12 }), true, true],
    ['no data', req({ dxferLength: 0 }), true, false],
  ] as const)('%s', (_name, request, allowDio, direct) => {
    expect(sgDirectIoDecision(request, allowDio, limits).direct).toBe(direct);
  });
});

describe('page rounding', () => {
  it('adds no page when already aligned', () => {
    expect([0, 1, 4095, 4096, 4097, 8192].map((n) => roundUpToPage(n))).toEqual([
      0, 4096, 4096, 4096, 8192, 8192,
    ]);
    expect(roundUpToPage(65536, 65536)).toBe(65536);
    expect(() => roundUpToPage(-1)).toThrow(InvalidFieldError);
  });
});
