/**
 * The built-in tables, opcode by opcode, against lists transcribed here independently of
 * src/, from drivers/scsi/scsi_ioctl.c `scsi_cmd_allowed` in 6.1 and block/scsi_ioctl.c
 * `blk_set_cmd_filter_defaults` copies.
 */
import {
  BLK_FILTER_5_14_TABLE,
  BLK_FILTER_EARLY_TABLE,
  BUILT_IN_PERMISSION_TABLES,
  builtInPermissionTable,
  InvalidFieldError,
  LINUX_6_1_TABLE,
  PermissionTable,
  SGV4_PROPOSAL_TABLE,
} from '@sgv4/core';
import { describe, expect, it } from 'vitest';

// scsi_cmd_allowed's read class (any open), in the order of its switch.
const READ_6_1 = [
  0x00, 0x03, 0x08, 0x28, 0xa8, 0x88, 0x3c, 0x37, 0x25, 0x3e, 0x12, 0x1a, 0x5a, 0x4d, 0x1b, 0x2f, 0x8f, 0xa0,
  0x9e, 0x1c, 0xa3, 0x5c, 0xbc, 0x45, 0x47, 0x48, 0x4b, 0xbe, 0xb9, 0x51, 0xad, 0x44, 0x52, 0x42, 0x43, 0xa4,
  0xba, 0x46, 0x23, 0x4a, 0xac, 0x2b, 0x4e, 0x95,
];
// scsi_cmd_allowed's write class (needs FMODE_WRITE), in the order of its switch.
const WRITE_6_1 = [
  0x0a, 0x2a, 0x2e, 0xaa, 0xae, 0x8a, 0x3f, 0xea, 0x41, 0x93, 0x0d, 0x19, 0x55, 0x15, 0x4c, 0xa1, 0x5b, 0x35,
  0x04, 0x58, 0x53, 0xbf, 0xa2, 0x54, 0x5d, 0xbb, 0x1e, 0xa6, 0xb6, 0xa7, 0x94,
];
// Added to the bitmaps after the early copies: WRITE_SAME, WRITE_SAME_16, WRITE_SAME_32, ZBC_IN, ZBC_OUT.
const LATER = [0x41, 0x93, 0x0d, 0x95, 0x94];
const sorted = (xs: readonly number[]): number[] => [...new Set(xs)].sort((a, b) => a - b);

describe('linux-6.1 (scsi_cmd_allowed)', () => {
  it('has 44 read-class and 31 write-class opcodes, disjoint', () => {
    expect(new Set(READ_6_1).size).toBe(44);
    expect(new Set(WRITE_6_1).size).toBe(31);
    expect(READ_6_1.filter((op) => WRITE_6_1.includes(op))).toEqual([]);
    expect(LINUX_6_1_TABLE.readTable()).toEqual(sorted(READ_6_1));
    expect(LINUX_6_1_TABLE.writeTable()).toEqual(sorted(WRITE_6_1));
  });

  it('classes every opcode 0x00..0xff as the kernel does', () => {
    for (let op = 0; op < 256; op++) {
      const expected = READ_6_1.includes(op)
        ? 'read-safe'
        : WRITE_6_1.includes(op)
          ? 'write-safe'
          : 'privileged';
      expect(LINUX_6_1_TABLE.opcodeClass(op), `opcode 0x${op.toString(16)}`).toBe(expected);
    }
  });

  it('names commands with the kernel macros and checks byte 0 only', () => {
    expect(LINUX_6_1_TABLE.opcodeName(0x0d)).toBe('WRITE_SAME_32');
    expect(LINUX_6_1_TABLE.opcodeName(0xa1)).toBe('GPCMD_BLANK');
    expect(LINUX_6_1_TABLE.opcodeName(0x85)).toBe('opcode 0x85');
    const varlen = new Uint8Array(32);
    varlen[0] = 0x7f;
    varlen[9] = 0x0d; // WRITE SAME(32) service action: still refused, byte 0 is 0x7f
    expect(LINUX_6_1_TABLE.lookup(varlen, false).entry.commandClass).toBe('privileged');
    expect(LINUX_6_1_TABLE.lookup(varlen, true).match).toBe('opcode'); // no refinements in 6.1
  });
});

describe('historic blk_set_cmd_filter_defaults bitmaps', () => {
  it('5.14: same read_ok, write_ok plus GPCMD_SEND_KEY 0xa3, so 0xa3 is in both bitmaps', () => {
    expect(BLK_FILTER_5_14_TABLE.readTable()).toEqual(sorted(READ_6_1));
    expect(BLK_FILTER_5_14_TABLE.writeTable()).toEqual(sorted([...WRITE_6_1, 0xa3]));
    expect(BLK_FILTER_5_14_TABLE.writeTable()).toHaveLength(32);
    expect(BLK_FILTER_5_14_TABLE.inReadTable(0xa3) && BLK_FILTER_5_14_TABLE.inWriteTable(0xa3)).toBe(true);
  });

  it('5.14: blk_verify_command tests read_ok first, so every effective class equals 6.1', () => {
    for (let op = 0; op < 256; op++) {
      expect(BLK_FILTER_5_14_TABLE.opcodeClass(op), `opcode 0x${op.toString(16)}`).toBe(
        LINUX_6_1_TABLE.opcodeClass(op),
      );
    }
    expect(BLK_FILTER_5_14_TABLE.opcodeClass(0xa3)).toBe('read-safe');
  });

  it('early copies lack WRITE_SAME*, ZBC_IN/OUT and call 0x9e SERVICE_ACTION_IN', () => {
    expect(BLK_FILTER_EARLY_TABLE.readTable()).toEqual(sorted(READ_6_1.filter((op) => !LATER.includes(op))));
    expect(BLK_FILTER_EARLY_TABLE.writeTable()).toEqual(
      sorted([...WRITE_6_1.filter((op) => !LATER.includes(op)), 0xa3]),
    );
    expect(BLK_FILTER_EARLY_TABLE.readTable()).toHaveLength(43);
    expect(BLK_FILTER_EARLY_TABLE.writeTable()).toHaveLength(28);
    for (const op of LATER) expect(BLK_FILTER_EARLY_TABLE.opcodeClass(op)).toBe('privileged');
    expect(BLK_FILTER_EARLY_TABLE.opcodeName(0x9e)).toBe('SERVICE_ACTION_IN');
  });
});

describe('sgv4-proposal', () => {
  const cdb = (...bytes: number[]): Uint8Array => {
    const out = new Uint8Array(Math.max(16, bytes.length));
    out.set(bytes);
    return out;
  };

  it('drops raw 0x0d, adds SYNCHRONIZE CACHE(16), keeps the other byte-0 classes of 6.1', () => {
    expect(SGV4_PROPOSAL_TABLE.opcodeClass(0x0d)).toBe('privileged');
    expect(SGV4_PROPOSAL_TABLE.opcodeClass(0x91)).toBe('write-safe');
    for (let op = 0; op < 256; op++) {
      if (op === 0x0d || op === 0x91) continue;
      expect(SGV4_PROPOSAL_TABLE.opcodeClass(op)).toBe(LINUX_6_1_TABLE.opcodeClass(op));
    }
  });

  it('classes service actions of 0x9e, 0xa3, 0xa4, 0x83, 0x84 and unlisted ones as privileged', () => {
    const lookup = (c: Uint8Array, type = 0) => SGV4_PROPOSAL_TABLE.lookup(c, true, type);
    expect(lookup(cdb(0x9e, 0x10)).entry).toMatchObject({
      name: 'READ CAPACITY(16)',
      commandClass: 'read-safe',
    });
    expect(lookup(cdb(0x9e, 0x1f))).toMatchObject({ match: 'unlisted-service-action', listed: false });
    expect(lookup(cdb(0x9e, 0x1f)).entry.commandClass).toBe('privileged');
    expect(lookup(cdb(0xa3, 0x0c)).entry.name).toBe('REPORT SUPPORTED OPERATION CODES');
    expect(lookup(cdb(0xa4, 0x0a)).entry).toMatchObject({
      name: 'SET TARGET PORT GROUPS',
      commandClass: 'privileged',
    });
    expect(lookup(cdb(0x83, 0x11)).entry.commandClass).toBe('write-safe');
    expect(lookup(cdb(0x84, 0x03)).entry.commandClass).toBe('read-safe');
    // the same bytes on an MMC device are SEND KEY / REPORT KEY
    expect(lookup(cdb(0xa3, 0x0c), 5).entry).toMatchObject({ name: 'SEND KEY', commandClass: 'write-safe' });
    expect(lookup(cdb(0xa4, 0x0a), 5).entry).toMatchObject({ name: 'REPORT KEY', commandClass: 'read-safe' });
  });

  it('reads the 16-bit service action of 0x7f at bytes 8..9', () => {
    const c = new Uint8Array(32);
    c[0] = 0x7f;
    c[7] = 0x18;
    c[9] = 0x09;
    expect(SGV4_PROPOSAL_TABLE.lookup(c, true).entry).toMatchObject({
      name: 'READ(32)',
      commandClass: 'read-safe',
    });
    c[8] = 0x1f;
    c[9] = 0xf0;
    expect(SGV4_PROPOSAL_TABLE.lookup(c, true).entry.name).toBe('ATA PASS-THROUGH(32)');
    expect(SGV4_PROPOSAL_TABLE.lookup(new Uint8Array([0x7f, 0, 0, 0, 0, 0]), true).match).toBe(
      'truncated-service-action',
    );
  });
});

describe('table construction', () => {
  it('looks built-in tables up by name and rejects unknown names with the list', () => {
    expect(BUILT_IN_PERMISSION_TABLES.map((t) => t.name)).toEqual([
      'linux-6.1',
      'blk-filter-5.14',
      'blk-filter-early',
      'sgv4-proposal',
    ]);
    expect(builtInPermissionTable('linux-6.1')).toBe(LINUX_6_1_TABLE);
    expect(() => builtInPermissionTable('nope')).toThrow(/table: must name a built-in table \(linux-6\.1/);
  });

  it('rejects bad opcodes and service actions with an InvalidFieldError naming the field', () => {
    const make = (spec: Partial<ConstructorParameters<typeof PermissionTable>[0]>) => () =>
      new PermissionTable({ name: 't', description: 'd', readOk: [], writeOk: [], names: {}, ...spec });
    expect(make({ readOk: [0x100] })).toThrow(InvalidFieldError);
    expect(make({ readOk: [0x100] })).toThrow(/readOk\[0\]: must be an opcode/);
    expect(
      make({ refinements: [{ opcode: 0x28, serviceAction: 1, name: 'x', commandClass: 'read-safe' }] }),
    ).toThrow(/refinements\[0\]\.serviceAction: opcode 0x28 has no service action field/);
    expect(
      make({ refinements: [{ opcode: 0x9e, serviceAction: 0x20, name: 'x', commandClass: 'read-safe' }] }),
    ).toThrow(/must be an integer 0\.\.31/);
  });
});
