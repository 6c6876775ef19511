import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildCdb,
  CDB_SPECS,
  cdbLengthForOpcode,
  cdbSpec,
  cdbUsageData,
  decodeCdb,
  encodeCdb,
  type FieldInput,
  type FieldValues,
  InvalidFieldError,
  MalformedDataError,
} from '../../src/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Golden bytes: [command key, fields, expected CDB hex] — written out from the T10 tables by hand. */
const GOLDEN: [string, FieldInput, string][] = [
  ['tur', {}, '000000000000'],
  ['request-sense', { desc: true, allocationLength: 252 }, '030100 00fc00'],
  ['inquiry', { allocationLength: 36 }, '120000002400'],
  ['inquiry', { evpd: 1, pageCode: 0x83, allocationLength: 0x1000 }, '120183100000'],
  ['read-capacity10', {}, '25000000000000000000'],
  ['read-capacity16', { allocationLength: 32 }, '9e100000000000000000000000200000'],
  ['read6', { lba: 0x1f_ffff, transferLength: 8 }, '081fffff0800'],
  ['read10', { lba: 0x1234, transferLength: 8, fua: true, dpo: 1 }, '28180000123400000800'],
  ['read12', { lba: 0x01020304, transferLength: 0x10, groupNumber: 3 }, 'a800010203040000001003 00'],
  [
    'read16',
    { lba: 0x0102030405060708n, transferLength: 0x100, rdprotect: 7 },
    '88e00102030405060708000001000000',
  ],
  ['write6', { lba: 0x1234, transferLength: 1 }, '0a0012340100'],
  ['write10', { lba: 0xffff_ffff, transferLength: 0xffff, wrprotect: 1 }, '2a20ffffffff00ffff00'],
  ['write12', { lba: 7, transferLength: 2 }, 'aa000000000700000002 0000'],
  ['write16', { lba: 0n, transferLength: 1, fua: true }, '8a080000000000000000000000010000'],
  ['verify10', { bytchk: 1, lba: 0x10, verificationLength: 4 }, '2f020000001000000400'],
  ['verify16', { lba: 0x10n, verificationLength: 4 }, '8f000000000000000010000000040000'],
  ['write-same10', { unmap: true, lba: 0x100, numberOfBlocks: 0x80 }, '41080000010000008000'],
  [
    'write-same16',
    { unmap: true, ndob: true, lba: 0x100n, numberOfBlocks: 0x80 },
    '93090000000000000100000000800000',
  ],
  ['sync-cache10', { immed: true }, '35020000000000000000'],
  ['sync-cache16', { lba: 1n, numberOfBlocks: 2 }, '91000000000000000001000000020000'],
  ['mode-sense6', { dbd: true, pc: 0, pageCode: 0x08, allocationLength: 0xfc }, '1a080800fc00'],
  [
    'mode-sense10',
    { llbaa: 1, pageCode: 0x3f, subpageCode: 0xff, allocationLength: 0x1000 },
    '5a103fff000000100000',
  ],
  ['mode-select6', { pf: true, parameterListLength: 24 }, '151000001800'],
  ['mode-select10', { pf: true, sp: true, parameterListLength: 28 }, '55110000000000001c00'],
  ['report-luns', { selectReport: 2, allocationLength: 0x1000 }, 'a0000200000000001000 0000'],
  [
    'report-opcodes',
    {
      rctd: true,
      reportingOptions: 2,
      requestedOperationCode: 0x9e,
      requestedServiceAction: 0x10,
      allocationLength: 512,
    },
    'a30c829e0010000002000000',
  ],
  ['start-stop', { start: true, loej: true, powerCondition: 0 }, '1b0000000300'],
  ['unmap', { parameterListLength: 24 }, '42000000000000001800'],
  ['reserve6', {}, '160000000000'],
  ['release6', { extent: 0 }, '170000000000'],
  ['reserve10', { thirdParty: 1, thirdPartyDeviceId: 5 }, '56100005000000000000'],
  ['release10', {}, '57000000000000000000'],
  ['prin-read-keys', { allocationLength: 0x200 }, '5e000000000000020000'],
  ['prin-read-reservation', { allocationLength: 16 }, '5e010000000000001000'],
  ['prin-report-capabilities', { allocationLength: 8 }, '5e020000000000000800'],
  ['prin-read-full-status', { allocationLength: 0x1000 }, '5e030000000000100000'],
  ['prout-register', { parameterListLength: 24 }, '5f000000000000001800'],
  ['prout-reserve', { type: 1, parameterListLength: 24 }, '5f010100000000001800'],
  ['prout-release', { type: 3, parameterListLength: 24 }, '5f020300000000001800'],
  ['prout-clear', { parameterListLength: 24 }, '5f030000000000001800'],
  ['prout-preempt', { type: 5, parameterListLength: 24 }, '5f040500000000001800'],
  ['prout-preempt-and-abort', { type: 8, parameterListLength: 24 }, '5f050800000000001800'],
  ['prout-register-and-ignore', { parameterListLength: 24 }, '5f060000000000001800'],
  ['compare-and-write', { lba: 0x10n, numberOfBlocks: 1, fua: true }, '89080000000000000010000000010000'],
  ['write-verify10', { lba: 0x20, transferLength: 2, bytchk: 1 }, '2e020000002000000200'],
  ['write-verify12', { lba: 0x20, transferLength: 2, dpo: 1 }, 'ae100000002000000002 0000'],
  ['write-verify16', { lba: 0x20n, transferLength: 2 }, '8e000000000000000020000000020000'],
  ['verify12', { bytchk: 1, lba: 0x10, verificationLength: 4 }, 'af020000001000000004 0000'],
  ['prefetch10', { immed: true, lba: 1, prefetchLength: 8 }, '34020000000100000800'],
  ['prefetch16', { lba: 1n, prefetchLength: 8 }, '90000000000000000001000000080000'],
  ['prevent-allow', { prevent: 1 }, '1e0000000100'],
  ['get-lba-status', { lba: 0x100n, allocationLength: 24 }, '9e120000000000000100000000180000'],
  ['report-tmfs', { repd: true, allocationLength: 16 }, 'a30d8000000000000010 0000'],
  [
    'ata12',
    { protocol: 4, tDir: 1, byteBlock: 1, tLength: 2, count: 1, command: 0xec },
    'a1080e000100000000ec0000',
  ],
  [
    'ata16',
    { protocol: 3, extend: 1, ckCond: 1, command: 0xe5, features: 0x0102, count: 0x0304 },
    '8507200102030400000000000000e500',
  ],
];

describe('CDB builders', () => {
  it.each(GOLDEN)('%s builds its golden bytes', (key, fields, expected) => {
    const cdb = buildCdb(key, fields);
    expect(hex(cdb)).toBe(expected.replace(/\s+/g, ''));
    const decoded = decodeCdb(cdb);
    expect(decoded.spec.key).toBe(key);
    const got: FieldValues = decoded.fields;
    for (const [name, v] of Object.entries(fields)) {
      const want = typeof v === 'boolean' ? (v ? 1 : 0) : v;
      expect(got[name]).toEqual(
        typeof want === 'number' && typeof got[name] === 'bigint' ? BigInt(want) : want,
      );
    }
  });

  it('has a golden case for every command table', () => {
    expect(new Set(GOLDEN.map(([k]) => k))).toEqual(new Set(CDB_SPECS.map((s) => s.key)));
  });

  it('derives CDB USAGE DATA from the tables (SPC-6 6.35.4)', () => {
    // READ(10): RDPROTECT/DPO/FUA/RARC in byte 1 (0xfc), LBA, GROUP NUMBER (6 bits), length, control NACA.
    expect(hex(cdbUsageData(cdbSpec('read10')))).toBe('28fcffffffff3fffff04');
    // READ CAPACITY(16): service action 0x10 in byte 1, PMI bit in byte 14.
    expect(hex(cdbUsageData(cdbSpec('read-capacity16')))).toBe('9e10ffffffffffffffffffffffff0104');
    // PERSISTENT RESERVE OUT: SCOPE/TYPE byte, 32-bit parameter list length.
    expect(hex(cdbUsageData(cdbSpec('prout-reserve')))).toBe('5f01ff0000ffffffff04');
    expect(hex(cdbUsageData(cdbSpec('tur'), 0))).toBe('000000000000');
  });

  it('lengths agree with the opcode group (COMMAND_SIZE)', () => {
    for (const s of CDB_SPECS)
      expect({ key: s.key, len: cdbLengthForOpcode(s.opcode) }).toEqual({ key: s.key, len: s.length });
  });

  it('round-trips random in-range values for every command (property)', () => {
    for (const s of CDB_SPECS) {
      // Every CDB field is an integer field; the table fixes OPERATION CODE and SERVICE ACTION.
      const settable = s.fields.filter((f) => f.name !== 'operationCode' && f.name !== 'serviceAction');
      expect(settable.length).toBeGreaterThan(0);
      const arb = fc.record(
        Object.fromEntries(
          settable.map((f) => [
            f.name,
            f.width > 32
              ? fc.bigInt({ min: 0n, max: (1n << BigInt(f.width)) - 1n })
              : fc.integer({ min: 0, max: 2 ** f.width - 1 }),
          ]),
        ),
      );
      fc.assert(
        fc.property(arb, (values) => {
          const decoded = decodeCdb(encodeCdb(s, values as FieldInput));
          expect(decoded.spec.key).toBe(s.key);
          const got: FieldValues = decoded.fields;
          for (const [k, v] of Object.entries(values)) expect(got[k]).toEqual(v);
        }),
        { numRuns: 200 },
      );
    }
  });

  it('rejects bad fields by name and rule', () => {
    expect(() => buildCdb('read10', { lba: 2 ** 32 })).toThrow(
      /READ\(10\)\.lba: must be an integer in 0\.\.4294967295/,
    );
    expect(() => buildCdb('read6', { lba: -1 })).toThrow(InvalidFieldError);
    // The typed encoder refuses these at compile time too (the @ts-expect-error lines are type tests).
    // @ts-expect-error lbaa is not a field of READ(10)
    expect(() => buildCdb('read10', { lbaa: 1 })).toThrow(/READ\(10\)\.lbaa: is not a field of READ\(10\)/);
    expect(() => buildCdb('read10', { fua: 2 })).toThrow(InvalidFieldError);
    // @ts-expect-error TRANSFER LENGTH is 16 bits: no boolean
    expect(() => buildCdb('read10', { transferLength: true })).toThrow(InvalidFieldError);
    // @ts-expect-error OPERATION CODE is fixed by the table
    expect(() => buildCdb('read10', { operationCode: 0x2a })).toThrow(/is fixed by the command table/);
    // @ts-expect-error not a command
    expect(() => buildCdb('nope')).toThrow(/command: must be one of/);
    const unknown: string = 'nope';
    expect(() => buildCdb(unknown)).toThrow(/command: must be one of/);
  });

  it('fuzz: decodeCdb on random bytes gives a CDB or MalformedDataError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), (bytes) => {
        try {
          const d = decodeCdb(bytes);
          expect(bytes.length).toBeGreaterThanOrEqual(d.spec.length);
        } catch (e) {
          expect(e).toBeInstanceOf(MalformedDataError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('reports unknown opcodes and service actions', () => {
    expect(() => decodeCdb(Uint8Array.of(0xc0, 0, 0, 0, 0, 0))).toThrow(/opcode 0xc0 has no field table/);
    expect(() => decodeCdb(Uint8Array.of(0x9e, 0x11, ...new Array(14).fill(0)))).toThrow(
      /service action 0x11/,
    );
    expect(() => decodeCdb(Uint8Array.of(0x28, 0, 0))).toThrow(
      /READ\(10\): needs 10 bytes at offset 0, only 3/,
    );
  });
});
