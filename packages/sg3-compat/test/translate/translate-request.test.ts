/**
 * v3 header -> canonical request: the translation tables (direction, queue position, fields),
 * the kernel's errno for each refusal in the kernel's order, the iovec layouts of both ABIs,
 * mmap-ed requests, and the refusals of the way back.
 */
import { InvalidFieldError, OsError, type ScsiRequest } from '@sgv4/core';
import { describe, expect, it } from 'vitest';
import {
  AddressSpace,
  createSgIoHdr,
  encodeSgIovecs,
  SG_DXFER_FROM_DEV,
  SG_DXFER_NONE,
  SG_DXFER_TO_DEV,
  SG_DXFER_TO_FROM_DEV,
  SG_DXFER_UNKNOWN,
  SG_FLAG_DIRECT_IO,
  SG_FLAG_MMAP_IO,
  SG_FLAG_NO_DXFER,
  SG_FLAG_Q_AT_HEAD,
  SG_FLAG_Q_AT_TAIL,
  type SgAbi,
  SgDriverError,
  type SgInterface,
  type SgIoHdr,
  sgIoHdrFromRequest,
  translateSgIoHdr,
} from '../../src/index.js';

const INQUIRY = Uint8Array.of(0x12, 0, 0, 0, 96, 0);

/** An address space holding a CDB and a data buffer, and a header pointing at them. */
function setup(abi: SgAbi = 'lp64', dataLength = 512, partial: Partial<SgIoHdr> = {}) {
  const memory = new AddressSpace({ abi });
  const cdb = INQUIRY.slice();
  const data = new Uint8Array(dataLength).fill(0xee);
  const cmdp = memory.map(cdb);
  const dxferp = memory.map(data);
  const hdr = createSgIoHdr({
    dxferDirection: SG_DXFER_FROM_DEV,
    cmdLen: cdb.length,
    mxSbLen: 32,
    dxferLen: dataLength,
    dxferp,
    cmdp,
    sbp: 0x1234n,
    ...partial,
  });
  return { memory, cdb, data, hdr, abi };
}

function errnoOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (error instanceof OsError) return error.code;
    throw error;
  }
}

describe('translation table: direction -> data side', () => {
  const rows: readonly [string, number, number, 'dataIn' | 'dataOut' | 'none', string, boolean][] = [
    ['NONE with a length', SG_DXFER_NONE, 512, 'none', 'none', false],
    ['TO_DEV', SG_DXFER_TO_DEV, 512, 'dataOut', 'to-device', false],
    ['TO_DEV with dxfer_len 0', SG_DXFER_TO_DEV, 0, 'none', 'none', false],
    ['FROM_DEV', SG_DXFER_FROM_DEV, 512, 'dataIn', 'from-device', false],
    [
      'TO_FROM_DEV: data-in, preloaded with the caller bytes',
      SG_DXFER_TO_FROM_DEV,
      512,
      'dataIn',
      'to-from-device',
      true,
    ],
    ['UNKNOWN: data-in', SG_DXFER_UNKNOWN, 512, 'dataIn', 'unknown', false],
    ['an undefined negative value reads (REQ_OP_DRV_IN)', -9, 512, 'dataIn', 'from-device', false],
    ['a non-negative value through SG_IO reads too', 3, 512, 'dataIn', 'from-device', false],
  ];
  it.each(rows)('%s', (_name, dir, len, side, direction, preload) => {
    const s = setup('lp64', 512, { dxferDirection: dir, dxferLen: len });
    const t = translateSgIoHdr(s.hdr, { abi: 'lp64', memory: s.memory, tag: 1n });
    expect(t.v3.data.direction).toBe(direction);
    expect(t.v3.preload).toBe(preload);
    expect(
      t.request.dataIn !== undefined ? 'dataIn' : t.request.dataOut !== undefined ? 'dataOut' : 'none',
    ).toBe(side);
    if (side !== 'none') {
      // Zero-copy: the request's buffer is the caller's memory.
      const buf = (t.request.dataIn ?? t.request.dataOut) as Uint8Array;
      expect(buf.buffer).toBe(s.data.buffer);
      expect(buf.length).toBe(len);
    }
  });
});

describe('translation table: queue position per interface', () => {
  const rows: readonly [number, SgInterface, 'head' | 'tail'][] = [
    [0, 'sg', 'head'],
    [SG_FLAG_Q_AT_TAIL, 'sg', 'tail'],
    [SG_FLAG_Q_AT_HEAD, 'sg', 'head'],
    [SG_FLAG_Q_AT_HEAD | SG_FLAG_Q_AT_TAIL, 'sg', 'tail'],
    [0, 'block', 'tail'],
    [SG_FLAG_Q_AT_TAIL, 'block', 'tail'],
    [SG_FLAG_Q_AT_HEAD, 'block', 'head'],
    [SG_FLAG_Q_AT_HEAD | SG_FLAG_Q_AT_TAIL, 'block', 'head'],
  ];
  it.each(rows)('flags 0x%s on %s -> %s', (flags, iface, at) => {
    const s = setup('lp64', 512, { flags });
    const t = translateSgIoHdr(s.hdr, { abi: 'lp64', memory: s.memory, tag: 1n, interface: iface });
    expect(t.request.queueAt).toBe(at);
  });
});

describe('translation table: the other fields', () => {
  it('carries cdb (copied), timeout, tag, SIMPLE, usr_ptr, pack_id, mx_sb_len and DIRECT_IO', () => {
    const s = setup('lp64', 512, {
      timeout: 7000,
      packId: -1,
      usrPtr: 0xdead_beef_cafen,
      mxSbLen: 200,
      flags: SG_FLAG_DIRECT_IO | SG_FLAG_NO_DXFER | 0x8,
    });
    const t = translateSgIoHdr(s.hdr, { abi: 'lp64', memory: s.memory, tag: 77n });
    expect(t.request).toMatchObject({
      cdb: INQUIRY,
      timeoutMs: 7000,
      tag: 77n,
      attribute: 'SIMPLE',
      usrPtr: 0xdead_beef_cafen,
      packId: 0xffff_ffff,
      maxSenseLength: 200,
      flags: SG_FLAG_DIRECT_IO,
    });
    expect(t.request.cdb.buffer).not.toBe(s.cdb.buffer);
    s.cdb[0] = 0; // the kernel copied the CDB at submission
    expect(t.request.cdb[0]).toBe(0x12);
    expect(t.v3.flags).toBe(SG_FLAG_DIRECT_IO | SG_FLAG_NO_DXFER | 0x8);
    expect(t.v3.sbp).toBe(0x1234n);
  });
});

describe('refusals, with the errno and in the order of the kernel', () => {
  const rows: readonly [string, Partial<SgIoHdr>, SgInterface, string][] = [
    ["interface_id 'Q' on sg", { interfaceId: 0x51 }, 'sg', 'ENOSYS'],
    ["interface_id 'Q' on block", { interfaceId: 0x51 }, 'block', 'EINVAL'],
    ['interface_id before cmd_len', { interfaceId: 0, cmdLen: 2 }, 'sg', 'ENOSYS'],
    ['NULL cmdp', { cmdp: 0n }, 'sg', 'EMSGSIZE'],
    ['cmd_len 5', { cmdLen: 5 }, 'sg', 'EMSGSIZE'],
    ['cmd_len 253', { cmdLen: 253 }, 'sg', 'EMSGSIZE'],
    ['cmd_len 33 on sg: EINVAL in sg_start_req, after the CDB was read', { cmdLen: 33 }, 'sg', 'EFAULT'],
    ['cmd_len 33 on block: EINVAL before the CDB is read', { cmdLen: 33 }, 'block', 'EINVAL'],
    ['cmd_len 5 on block', { cmdLen: 5 }, 'block', 'EMSGSIZE'],
    ['dxfer_len 256 MiB', { dxferLen: 256 * 1024 * 1024 }, 'sg', 'EINVAL'],
    ['block: data with NONE', { dxferDirection: SG_DXFER_NONE }, 'block', 'EINVAL'],
    ['block: data with UNKNOWN', { dxferDirection: SG_DXFER_UNKNOWN }, 'block', 'EINVAL'],
    ['unmapped data buffer', { dxferp: 0x10n }, 'sg', 'EFAULT'],
    ['iovec_count over UIO_MAXIOV', { iovecCount: 1025 }, 'sg', 'EINVAL'],
    ['unmapped iovec array', { iovecCount: 2, dxferp: 0x10n }, 'sg', 'EFAULT'],
    [
      'TO_FROM_DEV with a NULL dxferp (the copy-in reads address 0)',
      { dxferDirection: -4, dxferp: 0n },
      'sg',
      'EFAULT',
    ],
    ['iovecs at a NULL dxferp', { iovecCount: 1, dxferp: 0n }, 'sg', 'EFAULT'],
  ];
  it.each(rows)('%s', (_name, partial, iface, errno) => {
    const s = setup('lp64', 512, partial);
    expect(
      errnoOf(() => translateSgIoHdr(s.hdr, { abi: 'lp64', memory: s.memory, tag: 1n, interface: iface })),
    ).toBe(errno);
  });

  it('cmd_len 33 with a mapped 33-byte CDB is EINVAL from sg_start_req', () => {
    const s = setup('lp64', 512);
    const cdb = new Uint8Array(33);
    const hdr = { ...s.hdr, cmdp: s.memory.map(cdb), cmdLen: 33 };
    try {
      translateSgIoHdr(hdr, { abi: 'lp64', memory: s.memory, tag: 1n });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SgDriverError);
      expect((error as SgDriverError).code).toBe('EINVAL');
      expect((error as SgDriverError).kernelFunction).toBe('sg_start_req');
      expect((error as SgDriverError).message).toMatch(
        /^ioctl\(SG_IO\): EINVAL .*cmd_len 33.*\[sg_start_req\]$/,
      );
    }
  });

  it('block: dxfer_len over max_hw_sectors is EIO', () => {
    const s = setup('lp64', 512);
    expect(
      errnoOf(() =>
        translateSgIoHdr(s.hdr, {
          abi: 'lp64',
          memory: s.memory,
          tag: 1n,
          interface: 'block',
          maxTransferBytes: 511,
        }),
      ),
    ).toBe('EIO');
  });
});

describe('iovecs: each ABI reads its own layout', () => {
  function iovecSetup(abi: SgAbi, lengths: readonly number[], dxferLen: number) {
    const s = setup(abi, 16);
    const segments = lengths.map((n, i) => new Uint8Array(n).fill(i + 1));
    const addresses = segments.map((seg) => (seg.length > 0 ? s.memory.map(seg) : 0x1000n));
    const array = encodeSgIovecs(
      addresses.map((base, i) => ({ base, length: BigInt(lengths[i]!) })),
      abi,
    );
    const hdr = { ...s.hdr, iovecCount: lengths.length, dxferp: s.memory.map(array), dxferLen };
    return { ...s, hdr, segments, array };
  }

  for (const abi of ['lp64', 'ilp32'] as const) {
    it(`${abi}: ${abi === 'lp64' ? 16 : 8}-byte entries, views of each segment`, () => {
      const s = iovecSetup(abi, [100, 200, 300], 600);
      expect(s.array.length).toBe(3 * (abi === 'lp64' ? 16 : 8));
      const t = translateSgIoHdr(s.hdr, { abi, memory: s.memory, tag: 1n });
      const views = t.request.dataIn as Uint8Array[];
      expect(views.map((v) => v.length)).toEqual([100, 200, 300]);
      views.forEach((v, i) => {
        expect(v.buffer).toBe(s.segments[i]!.buffer);
      });
      expect(t.v3.data).toMatchObject({ viaIovec: true, length: 600 });
    });
  }

  it('a 32-bit array is never read as 64-bit: the same bytes mean other iovecs to an LP64 reader', () => {
    const s = iovecSetup('ilp32', [100, 200], 300);
    const t = translateSgIoHdr(s.hdr, { abi: 'ilp32', memory: s.memory, tag: 1n });
    expect(t.v3.data.segments.map((x) => x.length)).toEqual([100, 200]);
    // Read as LP64 the first 16 bytes would be one iovec whose base is (base0 | 100 << 32): unmapped.
    expect(errnoOf(() => translateSgIoHdr(s.hdr, { abi: 'lp64', memory: s.memory, tag: 1n }))).toBe('EFAULT');
  });

  it('"the shorter of the two wins": iovecs truncated to dxfer_len, dxfer_len beyond them ignored', () => {
    const short = translateSgIoHdr(iovecSetup('lp64', [100, 200, 300], 250).hdr, {
      abi: 'lp64',
      memory: iovecSetup('lp64', [100, 200, 300], 250).memory,
      tag: 1n,
    });
    expect(short.v3.data.segments.map((x) => x.length)).toEqual([100, 150, 0]);
    const s = iovecSetup('lp64', [100, 200], 5000);
    const long = translateSgIoHdr(s.hdr, { abi: 'lp64', memory: s.memory, tag: 1n });
    expect(long.v3.data.length).toBe(300);
  });

  it('refuses an iov_len that is negative as ssize_t, and iovecs holding no bytes (EINVAL)', () => {
    const s = iovecSetup('ilp32', [100], 100);
    const bad = encodeSgIovecs([{ base: 0x2000_0000n, length: 0x8000_0000n }], 'ilp32');
    expect(
      errnoOf(() =>
        translateSgIoHdr(
          { ...s.hdr, dxferp: s.memory.map(bad) },
          { abi: 'ilp32', memory: s.memory, tag: 1n },
        ),
      ),
    ).toBe('EINVAL');
    const empty = iovecSetup('lp64', [0, 0], 100);
    expect(errnoOf(() => translateSgIoHdr(empty.hdr, { abi: 'lp64', memory: empty.memory, tag: 1n }))).toBe(
      'EINVAL',
    );
  });
});

describe('SG_FLAG_MMAP_IO', () => {
  const reserve = new Uint8Array(8192);

  it('null-mapped (dxferp NULL): the data is the reserve, no caller memory', () => {
    const s = setup('lp64', 512, { flags: SG_FLAG_MMAP_IO, dxferp: 0n, dxferLen: 4096 });
    const t = translateSgIoHdr(s.hdr, { abi: 'lp64', memory: s.memory, tag: 1n, reserve });
    expect((t.request.dataIn as Uint8Array).buffer).toBe(reserve.buffer);
    expect((t.request.dataIn as Uint8Array).length).toBe(4096);
    expect(t.v3.data.nullMapped).toBe(true);
    expect(t.v3.user).toEqual([]);
    expect(t.request.flags).toBeUndefined();
  });

  it('with a dxferp the caller buffer is still mapped (sg copies through the reserve)', () => {
    const s = setup('lp64', 512, { flags: SG_FLAG_MMAP_IO });
    const t = translateSgIoHdr(s.hdr, { abi: 'lp64', memory: s.memory, tag: 1n, reserve });
    expect((t.request.dataIn as Uint8Array).buffer).toBe(reserve.buffer);
    expect(t.v3.user[0]!.buffer).toBe(s.data.buffer);
  });

  it('a NULL dxferp without the flag is null-mapped too: the reserve when given, else a zeroed buffer', () => {
    const s = setup('lp64', 512, { dxferp: 0n, dxferLen: 4096, dxferDirection: SG_DXFER_TO_DEV });
    const withReserve = translateSgIoHdr(s.hdr, { abi: 'lp64', memory: s.memory, tag: 1n, reserve });
    expect((withReserve.request.dataOut as Uint8Array).buffer).toBe(reserve.buffer);
    const alone = translateSgIoHdr(s.hdr, { abi: 'lp64', memory: s.memory, tag: 1n });
    expect(alone.request.dataOut).toEqual(new Uint8Array(4096));
    expect(alone.v3.data.nullMapped).toBe(true);
  });

  it('needs the reserve; larger than it is ENOMEM; on block the flag means nothing', () => {
    const s = setup('lp64', 512, { flags: SG_FLAG_MMAP_IO, dxferp: 0n, dxferLen: 9000 });
    expect(() => translateSgIoHdr(s.hdr, { abi: 'lp64', memory: s.memory, tag: 1n })).toThrow(
      InvalidFieldError,
    );
    expect(errnoOf(() => translateSgIoHdr(s.hdr, { abi: 'lp64', memory: s.memory, tag: 1n, reserve }))).toBe(
      'ENOMEM',
    );
    const b = setup('lp64', 512, { flags: SG_FLAG_MMAP_IO });
    const t = translateSgIoHdr(b.hdr, { abi: 'lp64', memory: b.memory, tag: 1n, interface: 'block' });
    expect((t.request.dataIn as Uint8Array).buffer).toBe(b.data.buffer);
  });
});

describe('the way back: what v3 cannot express', () => {
  const base: ScsiRequest = { cdb: INQUIRY, dataIn: new Uint8Array(96) };
  const addresses = { cdb: 0x1000n, data: 0x2000n, sense: 0x3000n };
  const rows: readonly [string, ScsiRequest, SgAbi, SgInterface, string][] = [
    ['bidirectional data', { ...base, dataOut: new Uint8Array(8) }, 'lp64', 'sg', 'dataOut'],
    ['an ORDERED task', { ...base, attribute: 'ORDERED' }, 'lp64', 'sg', 'attribute'],
    ['a HEAD OF QUEUE task', { ...base, attribute: 'HEAD_OF_QUEUE' }, 'lp64', 'sg', 'attribute'],
    ['a priority', { ...base, priority: 3 }, 'lp64', 'sg', 'priority'],
    ['a 1-byte CDB', { ...base, cdb: Uint8Array.of(0) }, 'lp64', 'sg', 'cdb'],
    ['a 253-byte CDB on sg', { ...base, cdb: new Uint8Array(253) }, 'lp64', 'sg', 'cdb'],
    ['a 33-byte CDB on block', { ...base, cdb: new Uint8Array(33) }, 'lp64', 'block', 'cdb'],
    ['300 sense bytes', { ...base, maxSenseLength: 300 }, 'lp64', 'sg', 'maxSenseLength'],
    ['an sgv4-only flag (YIELD_TAG)', { ...base, flags: 0x8 }, 'lp64', 'sg', 'flags'],
    ['a 64-bit usr_ptr in a 32-bit header', { ...base, usrPtr: 1n << 40n }, 'ilp32', 'sg', 'usrPtr'],
  ];
  it.each(rows)('%s', (_name, request, abi, iface, field) => {
    try {
      sgIoHdrFromRequest(request, { abi, interface: iface, addresses });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidFieldError);
      expect((error as InvalidFieldError).field).toBe(field);
    }
  });

  it('64-bit addresses in a 32-bit header name the address', () => {
    expect(() => sgIoHdrFromRequest(base, { abi: 'ilp32', addresses: { cdb: 1n << 33n } })).toThrow(
      /addresses.cdb/,
    );
  });

  it('builds a header for a plain request: direction, lengths, iovecs, queue bit, pack_id sign', () => {
    const h = sgIoHdrFromRequest(
      {
        cdb: INQUIRY,
        dataOut: [new Uint8Array(10), new Uint8Array(20)],
        queueAt: 'tail',
        packId: 0xffff_fffe,
        tag: 5n,
      },
      { abi: 'ilp32', addresses },
    );
    expect(h).toMatchObject({
      interfaceId: 0x53,
      dxferDirection: SG_DXFER_TO_DEV,
      dxferLen: 30,
      iovecCount: 2,
      cmdLen: 6,
      mxSbLen: 96,
      flags: SG_FLAG_Q_AT_TAIL,
      packId: -2,
      cmdp: 0x1000n,
      dxferp: 0x2000n,
      sbp: 0x3000n,
    });
  });

  it('with the v3 facts, a request that no longer agrees with them is refused', () => {
    const s = setup('lp64', 512, { flags: SG_FLAG_Q_AT_TAIL });
    const t = translateSgIoHdr(s.hdr, { abi: 'lp64', memory: s.memory, tag: 1n });
    expect(() => sgIoHdrFromRequest({ ...t.request, queueAt: 'head' }, { abi: 'lp64', v3: t.v3 })).toThrow(
      /queueAt/,
    );
    expect(() => sgIoHdrFromRequest({ ...t.request, dataIn: undefined }, { abi: 'lp64', v3: t.v3 })).toThrow(
      /dataIn/,
    );
    expect(() =>
      sgIoHdrFromRequest({ ...t.request, flags: SG_FLAG_DIRECT_IO }, { abi: 'lp64', v3: t.v3 }),
    ).toThrow(/DIRECT_IO/);
  });
});
