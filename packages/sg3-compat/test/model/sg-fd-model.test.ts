/**
 * The per-fd sg model, rule by rule (drivers/scsi/sg.c, Linux 6.1). The lab test
 * (sg-fd-model.lab.test.ts) checks the same rules against the real driver.
 */
import {
  createSgIoV4Header,
  NotSupportedError,
  OsError,
  queueLimitsPreset,
  responseFromSgIoV4,
  type ScsiResponse,
  type SgEnvironment,
  sgToFromDevRefusal,
  TRANSFER_RULES,
} from '@sgv4/core';
import { describe, expect, it } from 'vitest';
import {
  createSgIoHdr,
  POLLIN,
  POLLOUT,
  POLLRDNORM,
  POLLWRNORM,
  SG_DXFER_FROM_DEV,
  SG_DXFER_NONE,
  SG_DXFER_TO_DEV,
  SG_FLAG_DIRECT_IO,
  SG_FLAG_MMAP_IO,
  type SgDriverError,
  SgFdModel,
  type SgFdOptions,
  type SgIoHdr,
  type SgRequestSlot,
} from '../../src/index.js';

const env: SgEnvironment = { limits: queueLimitsPreset('scsi-debug').limits };

function fd(options: Partial<SgFdOptions> = {}): SgFdModel {
  return new SgFdModel({ env, ...options });
}

/** A READ-like v3 header: 6-byte CDB at a dummy address, `len` bytes in. */
function hdr(partial: Partial<SgIoHdr> = {}): SgIoHdr {
  return createSgIoHdr({
    dxferDirection: SG_DXFER_FROM_DEV,
    cmdLen: 6,
    cmdp: 0x1000n,
    dxferLen: 512,
    dxferp: 0x2000n,
    mxSbLen: 32,
    sbp: 0x3000n,
    ...partial,
  });
}

const GOOD: ScsiResponse = responseFromSgIoV4(createSgIoV4Header({}));

function errno(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (error instanceof OsError) return error.code;
    throw error;
  }
}

/** admit + start + dispatch, as a write() does. */
function submit(
  model: SgFdModel,
  partial: Partial<SgIoHdr> = {},
  via: 'write' | 'SG_IO' = 'write',
): SgRequestSlot {
  const slot = model.admit(hdr(partial), { via, nowMs: 0 });
  model.start(slot);
  return slot;
}

describe('a new fd (sg_add_sfp)', () => {
  it('has the default reserve, queueing off, and is writable', () => {
    const m = fd();
    expect(m.getReservedSize()).toBe(32768);
    expect(m.commandQueueing).toBe(false);
    expect(m.poll()).toBe(POLLOUT | POLLWRNORM);
    expect(m.getVersionNum()).toBe(30536);
    expect(m.getTimeout()).toBe(6000);
    expect(m.getSgTablesize()).toBe(2048);
  });

  it('asks def_reserved_size but no more than max_sectors bytes', () => {
    expect(fd({ defReservedSize: 4 << 20 }).getReservedSize()).toBe(512 * 1024);
  });
});

describe('submission (sg_write, sg_new_write, sg_add_request)', () => {
  it('turns command queueing on with the first v3 header, even a refused one', () => {
    const m = fd();
    expect(errno(() => m.admit(hdr({ interfaceId: 0 }), { via: 'write', nowMs: 0 }))).toBe('ENOSYS');
    expect(m.commandQueueing).toBe(true);
    expect(m.requests).toHaveLength(0);
  });

  it('refuses in the kernel order: write count, slots, interface_id, MMAP_IO, cmd_len', () => {
    const m = fd();
    expect(errno(() => m.admit(hdr(), { via: 'write', count: 35, nowMs: 0 }))).toBe('EIO');
    expect(() => m.admit(hdr({ dxferDirection: 0 }), { via: 'write', nowMs: 0 })).toThrow(NotSupportedError);
    expect(errno(() => m.admit(hdr(), { via: 'write', count: 64, abi: 'ilp32', nowMs: 0 }))).toBe('EINVAL');
    for (let i = 0; i < 16; i++) submit(m, { packId: i, dxferLen: 0 });
    expect(errno(() => m.admit(hdr({ interfaceId: 0, cmdLen: 1 }), { via: 'write', nowMs: 0 }))).toBe('EDOM');
    const n = fd();
    expect(errno(() => n.admit(hdr({ interfaceId: 0, cmdLen: 1 }), { via: 'SG_IO', nowMs: 0 }))).toBe(
      'ENOSYS',
    );
    expect(
      errno(() =>
        n.admit(hdr({ flags: SG_FLAG_MMAP_IO, dxferLen: 40000, cmdLen: 1 }), { via: 'SG_IO', nowMs: 0 }),
      ),
    ).toBe('ENOMEM');
    expect(
      errno(() =>
        n.admit(hdr({ flags: SG_FLAG_MMAP_IO | SG_FLAG_DIRECT_IO, cmdLen: 1 }), { via: 'SG_IO', nowMs: 0 }),
      ),
    ).toBe('EINVAL');
    expect(errno(() => n.admit(hdr({ cmdLen: 5 }), { via: 'SG_IO', nowMs: 0 }))).toBe('EMSGSIZE');
    expect(errno(() => n.admit(hdr({ cmdp: 0n }), { via: 'SG_IO', nowMs: 0 }))).toBe('EMSGSIZE');
    expect(n.requests).toHaveLength(0);
  });

  it('dxfer_len >= 256 MiB is EINVAL before cmd_len > 32 (sg_common_write, then sg_start_req)', () => {
    const m = fd();
    const a = m.admit(hdr({ dxferLen: 256 << 20, cmdLen: 40 }), { via: 'SG_IO', nowMs: 0 });
    try {
      m.start(a);
      expect.unreachable();
    } catch (error) {
      expect((error as { kernelFunction: string }).kernelFunction).toBe('sg_common_write');
    }
    const b = m.admit(hdr({ cmdLen: 40 }), { via: 'SG_IO', nowMs: 0 });
    expect(errno(() => m.start(b))).toBe('EINVAL');
    expect(m.requests).toHaveLength(0);
  });

  it('write() on O_RDONLY and read() on O_WRONLY are EBADF', () => {
    expect(errno(() => fd({ openMode: 'read-only' }).admit(hdr(), { via: 'write', nowMs: 0 }))).toBe('EBADF');
    expect(errno(() => fd({ openMode: 'write-only' }).beginRead())).toBe('EBADF');
  });

  it('filters SG_IO on an fd not opened O_RDWR (sg_allow_access), never write()', () => {
    const ro = fd({ openMode: 'read-only' });
    const write10 = Uint8Array.of(0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0);
    const inquiry = Uint8Array.of(0x12, 0, 0, 0, 36, 0);
    const a = ro.admit(hdr({ cmdLen: 10 }), { via: 'SG_IO', nowMs: 0 });
    expect(errno(() => ro.permit(a, write10))).toBe('EPERM');
    const b = ro.admit(hdr(), { via: 'SG_IO', nowMs: 0 });
    ro.permit(b, inquiry);
    const wo = fd({ openMode: 'write-only' });
    const c = wo.admit(hdr({ cmdLen: 10 }), { via: 'write', nowMs: 0 });
    wo.permit(c, write10);
    expect(wo.requests).toHaveLength(1);
  });
});

describe('data paths (sg_start_req)', () => {
  it('the first fitting request links the reserve, the next one builds a private buffer', () => {
    const m = fd();
    const a = submit(m, { dxferLen: 4096 });
    const b = submit(m, { dxferLen: 4096 });
    expect(a.dataPath).toEqual({ kind: 'reserve', length: 4096 });
    expect(b.dataPath.kind).toBe('private');
    expect(m.reserve.inUse).toBe(true);
  });

  it('too large for the reserve: private; no data: none', () => {
    const m = fd();
    expect(submit(m, { dxferLen: 65536 }).dataPath.kind).toBe('private');
    expect(submit(m, { dxferDirection: SG_DXFER_NONE }).dataPath).toEqual({ kind: 'none' });
    expect(submit(m, { dxferLen: 0, dxferDirection: SG_DXFER_TO_DEV }).dataPath).toEqual({ kind: 'none' });
  });

  it('TO_FROM_DEV through a kernel buffer: ENOMEM as 6.1.80+ fails it, or copied as documented; NULL dxferp faults', () => {
    const m = fd();
    expect(errno(() => submit(m, { dxferDirection: -4 }))).toBe('ENOMEM');
    expect(m.requests).toHaveLength(0);
    expect(m.reserve.inUse).toBe(false);
    expect(errno(() => submit(m, { dxferDirection: -4, dxferLen: 65536 }))).toBe('ENOMEM');
    expect(submit(fd({ toFromDev: 'documented' }), { dxferDirection: -4 }).dataPath.kind).toBe('reserve');
    expect(errno(() => submit(fd({ toFromDev: 'documented' }), { dxferDirection: -4, dxferp: 0n }))).toBe(
      'EFAULT',
    );
    expect(
      submit(fd({ allowDio: true }), { dxferDirection: -4, flags: SG_FLAG_DIRECT_IO }).dataPath.kind,
    ).toBe('direct');
    expect(errno(() => submit(fd({ allowDio: true }), { flags: SG_FLAG_DIRECT_IO, dxferp: 0n }))).toBe(
      'EFAULT',
    );
  });

  it("TO_FROM_DEV refusals are core's sg-to-from-dev-regression: EINVAL when max_segments binds first", () => {
    const refusal = (dxferLen: number) => {
      try {
        submit(fd(), { dxferDirection: -4, dxferLen });
      } catch (error) {
        return error as SgDriverError;
      }
      throw new Error('not refused');
    };
    // 12 bytes: 2048 rounds of one segment fill max_segments before the reserve's 8 pages.
    const small = refusal(12);
    expect(small.code).toBe('EINVAL');
    expect(small.kernelFunction).toBe(
      TRANSFER_RULES['sg-to-from-dev-regression'].kernelFunction + ' (block/blk-map.c)',
    );
    expect(small.rule).toMatch(/max_segments 2048/);
    const expected = sgToFromDevRefusal(16, { elements: 1, elementSize: 32768 }, env.limits);
    expect({ code: refusal(16).code, rule: refusal(16).rule }).toEqual({
      code: 'ENOMEM',
      rule: expected.rule,
    });
  });

  it('direct IO only with allow_dio, the flag and aligned memory', () => {
    expect(submit(fd({ allowDio: true }), { flags: SG_FLAG_DIRECT_IO }).dataPath.kind).toBe('direct');
    expect(submit(fd({ allowDio: false }), { flags: SG_FLAG_DIRECT_IO }).dataPath.kind).toBe('reserve');
    expect(submit(fd({ allowDio: true }), { flags: SG_FLAG_DIRECT_IO, dxferp: 0x2001n }).dataPath.kind).toBe(
      'reserve',
    );
    expect(submit(fd({ allowDio: true }), { flags: SG_FLAG_DIRECT_IO, iovecCount: 2 }).dataPath.kind).toBe(
      'reserve',
    );
  });
});

describe('mmap-ed IO: one outstanding command per fd', () => {
  it('a second MMAP_IO request while the first is unread is EBUSY, even after it completed', () => {
    const m = fd();
    m.mmap(32768);
    const a = submit(m, { flags: SG_FLAG_MMAP_IO, dxferp: 0n, dxferLen: 8192 });
    expect(a.dataPath).toEqual({ kind: 'reserve', length: 8192 });
    expect(
      errno(() => m.admit(hdr({ flags: SG_FLAG_MMAP_IO, dxferp: 0n }), { via: 'write', nowMs: 0 })),
    ).toBe('EBUSY');
    m.complete(a, GOOD, 1);
    expect(
      errno(() => m.admit(hdr({ flags: SG_FLAG_MMAP_IO, dxferp: 0n }), { via: 'write', nowMs: 1 })),
    ).toBe('EBUSY');
    const r = m.beginRead();
    expect(r).toBe(a);
    m.finishRead(a, 88);
    submit(m, { flags: SG_FLAG_MMAP_IO, dxferp: 0n });
  });

  it('an ordinary request holding the reserve also blocks MMAP_IO (EBUSY)', () => {
    const m = fd();
    submit(m, { dxferLen: 1000 });
    expect(
      errno(() => m.admit(hdr({ flags: SG_FLAG_MMAP_IO, dxferp: 0n }), { via: 'write', nowMs: 0 })),
    ).toBe('EBUSY');
  });

  it('SG_SET_RESERVED_SIZE: EBUSY after mmap (for good) or while the reserve is held; same size is fine', () => {
    const m = fd();
    const a = submit(m, { dxferLen: 1000 });
    expect(errno(() => m.setReservedSize(65536))).toBe('EBUSY');
    m.complete(a, GOOD, 1);
    expect(errno(() => m.setReservedSize(65536))).toBe('EBUSY');
    m.finishRead(m.beginRead()!, 88);
    m.setReservedSize(65536);
    expect(m.getReservedSize()).toBe(65536);
    m.mmap(65536);
    expect(errno(() => m.setReservedSize(8192))).toBe('EBUSY');
    m.setReservedSize(65536);
    expect(errno(() => m.mmap(65537))).toBe('ENOMEM');
    expect(errno(() => m.mmap(4096, 1))).toBe('EINVAL');
    expect(errno(() => m.setReservedSize(-1))).toBe('EINVAL');
  });
});

describe('completion and read()', () => {
  it('read() returns the first completed request in submission order, not completion order', () => {
    const m = fd();
    const a = submit(m, { packId: 1 });
    const b = submit(m, { packId: 2 });
    const c = submit(m, { packId: 3 });
    m.complete(c, GOOD, 1);
    m.complete(b, GOOD, 2);
    expect(m.packIdOfFirstReply()).toBe(2);
    expect(m.beginRead()).toBe(b);
    m.complete(a, GOOD, 3);
    expect(m.beginRead()).toBe(a);
    expect(m.beginRead()).toBe(c);
  });

  it('SG_SET_FORCE_PACK_ID picks the pack_id asked for, -1 any; off, the pack_id is ignored', () => {
    const m = fd();
    const a = submit(m, { packId: 7 });
    const b = submit(m, { packId: 8 });
    m.complete(a, GOOD, 1);
    m.complete(b, GOOD, 1);
    m.setForcePackId(1);
    expect(m.beginRead(8)).toBe(b);
    expect(m.beginRead(9)).toBeUndefined();
    expect(m.beginRead(-1)).toBe(a);
    const n = fd();
    const x = submit(n, { packId: 7 });
    const y = submit(n, { packId: 8 });
    n.complete(x, GOOD, 1);
    n.complete(y, GOOD, 1);
    expect(n.beginRead(8)).toBe(x);
  });

  it('O_NONBLOCK: EAGAIN when nothing is ready; blocking: undefined (wait)', () => {
    const m = fd({ nonBlocking: true });
    submit(m);
    expect(errno(() => m.beginRead())).toBe('EAGAIN');
    expect(fd().beginRead()).toBeUndefined();
  });

  it('a read() buffer smaller than the header is EINVAL and the reply is lost (64 bytes suffice at ilp32)', () => {
    const m = fd();
    const a = submit(m);
    m.complete(a, GOOD, 1);
    expect(errno(() => m.finishRead(m.beginRead()!, 87))).toBe('EINVAL');
    expect(m.requests).toHaveLength(0);
    expect(m.reserve.inUse).toBe(false);
    const b = m.admit(hdr(), { via: 'write', nowMs: 0, abi: 'ilp32', count: 88 });
    m.start(b);
    m.complete(b, GOOD, 1);
    m.finishRead(m.beginRead()!, 64);
  });

  it('SG_IO requests are invisible to read(), poll and NUM_WAITING, but fill slots and the table', () => {
    const m = fd();
    const s = submit(m, {}, 'SG_IO');
    m.complete(s, GOOD, 5);
    expect(m.numWaiting()).toBe(0);
    expect(m.poll() & POLLIN).toBe(0);
    expect(m.beginRead()).toBeUndefined();
    expect(m.requestTable(5)[0]).toMatchObject({ reqState: 2, sgIoOwned: 1 });
  });

  it('orphans: dropped at completion, or kept for read() with SG_SET_KEEP_ORPHAN', () => {
    const m = fd();
    const a = submit(m, { packId: 4 }, 'SG_IO');
    expect(m.orphan(a)).toBe(true);
    expect(m.complete(a, GOOD, 1)).toEqual({ readable: false, dropped: true });
    expect(m.requests).toHaveLength(0);
    expect(m.reserve.inUse).toBe(false);
    m.setKeepOrphan(1);
    const b = submit(m, { packId: 5 }, 'SG_IO');
    m.orphan(b);
    expect(m.complete(b, GOOD, 1)).toEqual({ readable: true, dropped: false });
    expect(m.requestTable(1)[0]).toMatchObject({ orphan: 1, sgIoOwned: 0, reqState: 2 });
    expect(m.beginRead()).toBe(b);
  });
});

describe('poll, counts and the request table', () => {
  it('POLLIN with a readable reply; POLLOUT until 16 requests (or 1 without queueing)', () => {
    const m = fd();
    const a = submit(m);
    expect(m.poll()).toBe(POLLOUT | POLLWRNORM);
    m.complete(a, GOOD, 1);
    expect(m.poll()).toBe(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM);
    m.setCommandQueueing(0);
    expect(m.poll()).toBe(POLLIN | POLLRDNORM);
    m.setCommandQueueing(1);
    for (let i = 0; i < 15; i++) submit(m);
    expect(m.poll()).toBe(POLLIN | POLLRDNORM);
    expect(m.numWaiting()).toBe(1);
  });

  it('reports state, problem, durations, pack_id and usr_ptr in list order, 16 entries', () => {
    const m = fd();
    const a = m.admit(hdr({ packId: 11, usrPtr: 0xabcn }), { via: 'write', nowMs: 100 });
    m.start(a);
    const b = m.admit(hdr({ packId: 12 }), { via: 'write', nowMs: 110 });
    m.start(b);
    m.complete(b, responseFromSgIoV4(createSgIoV4Header({ deviceStatus: 2, driverStatus: 8 })), 130);
    const table = m.requestTable(150);
    expect(table).toHaveLength(16);
    expect(table[0]).toMatchObject({ reqState: 1, packId: 11, usrPtr: 0xabcn, duration: 50, problem: 0 });
    expect(table[1]).toMatchObject({ reqState: 2, packId: 12, duration: 20, problem: 1 });
    expect(table[2]).toMatchObject({ reqState: 0, packId: 0, usrPtr: 0n });
  });
});

describe('the small ioctls', () => {
  it('SG_SET_TIMEOUT: negative EIO, capped at INT_MAX * USER_HZ / HZ', () => {
    const m = fd();
    expect(errno(() => m.setTimeout(-1))).toBe('EIO');
    m.setTimeout(2_000_000_000);
    expect(m.getTimeout()).toBe(858993458);
    m.setTimeout(42);
    expect(m.getTimeout()).toBe(42);
  });

  it('SG_SET_KEEP_ORPHAN is a char; SG_NEXT_CMD_LEN over 252 is ENOMEM', () => {
    const m = fd();
    m.setKeepOrphan(255);
    expect(m.getKeepOrphan()).toBe(-1);
    m.setKeepOrphan(256);
    expect(m.getKeepOrphan()).toBe(0);
    expect(errno(() => m.setNextCommandLength(253))).toBe('ENOMEM');
    m.setNextCommandLength(-3);
    expect(m.nextCommandLength).toBe(0);
  });

  it('closed fds refuse with EBADF', () => {
    const m = fd();
    m.close();
    expect(errno(() => m.beginRead())).toBe('EBADF');
    expect(errno(() => m.admit(hdr(), { via: 'write', nowMs: 0 }))).toBe('EBADF');
  });
});
