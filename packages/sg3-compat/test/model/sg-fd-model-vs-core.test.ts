/**
 * The fd model's submission checks against @sgv4/core's stateless `predictSubmission()`
 * (written independently, from the same kernel source): on a fresh fd the two must refuse
 * the same headers with the same errno. The fd model adds what needs the fd's state (EDOM,
 * the reserve in use) and the data mapping, which the generator keeps out of the comparison:
 * no TO_FROM_DEV, no private buffer beyond sg_tablesize x element, no NULL data pointer.
 */
import { OsError, predictSubmission, queueLimitsPreset, type SgEnvironment } from '@sgv4/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createSgIoHdr,
  SG_FLAG_DIRECT_IO,
  SG_FLAG_MMAP_IO,
  SgFdModel,
  transferDirectionOf,
} from '../../src/index.js';

const env: SgEnvironment = { limits: queueLimitsPreset('scsi-debug').limits };

const headerArb = fc.record({
  via: fc.constantFrom<'write' | 'SG_IO'>('write', 'SG_IO'),
  count: fc.constantFrom(20, 36, 64, 88, 100),
  openMode: fc.constantFrom<'read-write' | 'read-only' | 'write-only'>(
    'read-write',
    'read-only',
    'write-only',
  ),
  capSysRawio: fc.boolean(),
  interfaceId: fc.constantFrom(0x53, 0x53, 0x53, 0x51, 0),
  dxferDirection: fc.constantFrom(-1, -2, -3, -5),
  dxferLen: fc.oneof(
    fc.integer({ min: 0, max: 1 << 20 }),
    fc.constantFrom(32768, 32769, 256 << 20, 0xffff_ffff),
  ),
  cmdLen: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(6, 10, 16, 32, 33, 252)),
  nullCmdp: fc.boolean(),
  opcode: fc.integer({ min: 0, max: 255 }),
  flags: fc.subarray([SG_FLAG_DIRECT_IO, SG_FLAG_MMAP_IO]),
  iovecCount: fc.constantFrom(0, 0, 2),
});

type HeaderCase = typeof headerArb extends fc.Arbitrary<infer T> ? T : never;

function modelErrno(h: HeaderCase): string {
  const m = new SgFdModel({ env, openMode: h.openMode, capSysRawio: h.capSysRawio });
  const flags = h.flags.reduce((a, b) => a | b, 0);
  const hdr = createSgIoHdr({
    interfaceId: h.interfaceId,
    dxferDirection: h.dxferDirection,
    cmdLen: h.cmdLen,
    cmdp: h.nullCmdp ? 0n : 0x1000n,
    dxferLen: h.dxferLen,
    dxferp: 0x2000n,
    iovecCount: (flags & SG_FLAG_MMAP_IO) !== 0 ? 0 : h.iovecCount,
    flags,
  });
  try {
    const slot = m.admit(hdr, { via: h.via, count: h.count, nowMs: 0 });
    m.permit(slot, cdbOf(h.opcode, h.cmdLen));
    m.start(slot);
    return 'submitted';
  } catch (error) {
    if (error instanceof OsError) return error.code;
    throw error;
  }
}

function cdbOf(opcode: number, cmdLen: number): Uint8Array {
  const cdb = new Uint8Array(Math.max(cmdLen, 1));
  cdb[0] = opcode;
  return cdb;
}

describe('SgFdModel agrees with core predictSubmission on a fresh sg fd', () => {
  it('refuses the same headers with the same errno, in the same order', () => {
    fc.assert(
      fc.property(headerArb, (h) => {
        fc.pre(h.dxferLen < 64 << 20 || h.dxferLen >= 256 << 20); // no sg_build_indirect ENOMEM
        const flags = h.flags.reduce((a, b) => a | b, 0);
        const prediction = predictSubmission({
          iface: 'sg',
          call: h.via === 'write' ? 'write' : 'ioctl',
          writeCount: h.count,
          header: {
            kind: 'sg_io_hdr',
            interfaceId: h.interfaceId,
            cmdLength: h.cmdLen,
            cdb: h.nullCmdp ? null : cdbOf(h.opcode, h.cmdLen),
            dxferDirection: transferDirectionOf(h.dxferDirection),
            dxferLength: h.dxferLen,
            directIo: (flags & SG_FLAG_DIRECT_IO) !== 0,
            mmapIo: (flags & SG_FLAG_MMAP_IO) !== 0,
            iovecCount: (flags & SG_FLAG_MMAP_IO) !== 0 ? 0 : h.iovecCount,
          },
          access: { openMode: h.openMode, capSysRawio: h.capSysRawio },
          limits: env.limits,
        });
        const core = prediction.outcome === 'submitted' ? 'submitted' : (prediction.errno ?? 'refused');
        expect({ model: modelErrno(h), core, rule: prediction.rule }).toMatchObject({ model: core });
      }),
      { numRuns: 1500 },
    );
  });
});
