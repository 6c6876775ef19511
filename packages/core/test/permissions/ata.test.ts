/**
 * ATA PASS-THROUGH: decoding the embedded ATA command (libata `ata_scsi_pass_thru`
 * offsets), the ATA table, and the kernel vs ata-aware policies.
 */
import {
  ATA_COMMAND_TABLE,
  ataPassThroughForm,
  classifyAtaCommand,
  decidePermission,
  decodeAtaPassThrough,
  explainPermission,
  InvalidFieldError,
} from '@sgv4/core';
import { describe, expect, it } from 'vitest';

/** ATA PASS-THROUGH(16), PIO data-in (4), T_DIR from device, T_LENGTH in COUNT: IDENTIFY DEVICE. */
const IDENTIFY_16 = new Uint8Array([0x85, 0x08, 0x0e, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xec, 0]);
/** ATA PASS-THROUGH(12), PIO data-in: SMART READ DATA (features 0xd0, LBA mid/high 0x4f/0xc2). */
const SMART_READ_12 = new Uint8Array([0xa1, 0x08, 0x0e, 0xd0, 1, 0, 0x4f, 0xc2, 0, 0xb0, 0, 0]);
/** ATA PASS-THROUGH(12), non-data: SECURITY ERASE PREPARE. */
const SECURITY_12 = new Uint8Array([0xa1, 0x06, 0x00, 0, 0, 0, 0, 0, 0, 0xf3, 0, 0]);

function ata32(command: number, protocol: number, extend: boolean): Uint8Array {
  const c = new Uint8Array(32);
  c[0] = 0x7f;
  c[7] = 0x18;
  c[8] = 0x1f;
  c[9] = 0xf0;
  c[10] = (protocol << 1) | (extend ? 1 : 0);
  c[11] = 0x0e;
  c.set([0x01, 0x02, 0x03, 0x04, 0x05, 0x06], 14); // LBA 47..0
  c.set([0xaa, 0xbb], 20); // features 15..0
  c.set([0x00, 0x08], 22); // count
  c[24] = 0x40;
  c[25] = command;
  return c;
}

describe('decodeAtaPassThrough', () => {
  it('decodes the 16-byte form (EXTEND high bytes at 3/5/7/9/11)', () => {
    expect(decodeAtaPassThrough(IDENTIFY_16)).toMatchObject({
      form: 'ATA PASS-THROUGH(16)',
      protocol: 4,
      protocolName: 'PIO data-in',
      extend: false,
      command: 0xec,
      count: 1,
      fromDevice: true,
      transferLength: 2,
    });
    const ext = new Uint8Array([
      0x85, 0x0d, 0x0e, 0x12, 0x34, 0x00, 0x08, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x40, 0x25, 0,
    ]);
    expect(decodeAtaPassThrough(ext)).toMatchObject({
      protocol: 6,
      extend: true,
      features: 0x1234,
      count: 8,
      lba: 0x050301060402, // 47..40 b11, 39..32 b9, 31..24 b7, 23..16 b12, 15..8 b10, 7..0 b8
      device: 0x40,
      command: 0x25,
    });
  });

  it('decodes the 12-byte form and the 32-byte form (LBA 47..0 at bytes 14..19)', () => {
    expect(decodeAtaPassThrough(SMART_READ_12)).toMatchObject({
      form: 'ATA PASS-THROUGH(12)',
      command: 0xb0,
      features: 0xd0,
      lba: 0xc24f00,
    });
    expect(decodeAtaPassThrough(ata32(0x25, 6, true))).toMatchObject({
      form: 'ATA PASS-THROUGH(32)',
      protocol: 6,
      features: 0xaabb,
      count: 8,
      lba: 0x010203040506,
      device: 0x40,
      command: 0x25,
    });
    expect(decodeAtaPassThrough(ata32(0x25, 6, false))).toMatchObject({ features: 0xbb, lba: 0x040506 });
  });

  it('0xa1 is BLANK on an MMC device, and short CDBs are an InvalidFieldError', () => {
    expect(ataPassThroughForm(SMART_READ_12, 5)).toBeUndefined();
    expect(decodeAtaPassThrough(SMART_READ_12, 5)).toBeUndefined();
    expect(decodeAtaPassThrough(new Uint8Array([0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined();
    expect(() => decodeAtaPassThrough(new Uint8Array([0x85, 0, 0, 0, 0, 0]))).toThrow(InvalidFieldError);
    expect(() => decodeAtaPassThrough(new Uint8Array([0x85, 0, 0, 0, 0, 0]))).toThrow(
      /cdb: ATA PASS-THROUGH\(16\) needs a 16-byte CDB/,
    );
  });
});

describe('ATA table', () => {
  const cls = (cdb: Uint8Array) => {
    const decoded = decodeAtaPassThrough(cdb);
    if (!decoded) throw new Error('not ATA');
    return classifyAtaCommand(decoded);
  };

  it('reads are read-safe; writes, SECURITY and DOWNLOAD MICROCODE privileged', () => {
    expect(cls(IDENTIFY_16)).toMatchObject({ commandClass: 'read-safe', entry: { name: 'IDENTIFY DEVICE' } });
    expect(cls(SMART_READ_12)).toMatchObject({
      commandClass: 'read-safe',
      entry: { name: 'SMART READ DATA' },
    });
    expect(cls(SECURITY_12)).toMatchObject({
      commandClass: 'privileged',
      entry: { name: 'SECURITY ERASE PREPARE' },
    });
    for (const name of [
      'DOWNLOAD MICROCODE',
      'WRITE DMA EXT',
      'SECURITY ERASE UNIT',
      'CHECK POWER MODE',
      'READ LOG EXT',
    ]) {
      expect(ATA_COMMAND_TABLE.some((e) => e.name === name)).toBe(true);
    }
    expect(ATA_COMMAND_TABLE.find((e) => e.name === 'DOWNLOAD MICROCODE')?.commandClass).toBe('privileged');
  });

  it('a reset protocol or a data-out protocol on a read command makes it privileged', () => {
    const reset = new Uint8Array(IDENTIFY_16);
    reset[1] = 0x00; // protocol 0: hardware reset
    expect(cls(reset)).toMatchObject({
      commandClass: 'privileged',
      reason: expect.stringContaining('resets'),
    });
    const out = new Uint8Array(IDENTIFY_16);
    out[1] = 5 << 1; // PIO data-out
    expect(cls(out)).toMatchObject({
      commandClass: 'privileged',
      reason: expect.stringContaining('sends data'),
    });
    const unknownSmart = new Uint8Array(SMART_READ_12);
    unknownSmart[3] = 0xee;
    expect(cls(unknownSmart)).toMatchObject({
      commandClass: 'privileged',
      entry: { name: 'SMART feature 0xee' },
    });
  });
});

describe('kernel vs ata-aware policy', () => {
  it('kernel: 0xa1 passes as GPCMD_BLANK on a writable open whatever the ATA command', () => {
    const d = decidePermission({
      cdb: SECURITY_12,
      iface: 'bsg',
      openMode: 'read-write',
      capSysRawio: false,
    });
    expect(d).toMatchObject({ allowed: true, rule: 'write-safe-writable', command: { name: 'GPCMD_BLANK' } });
    expect(d.ata).toMatchObject({ decisive: false, classification: { commandClass: 'privileged' } });
    expect(explainPermission(d)).toContain('Linux checks only byte 0');
    // 0x85 is in neither 6.1 list: refused even for IDENTIFY DEVICE
    expect(
      decidePermission({ cdb: IDENTIFY_16, iface: 'bsg', openMode: 'read-write', capSysRawio: false })
        .allowed,
    ).toBe(false);
  });

  it('ata-aware: the embedded command decides; 0xa1 on MMC stays BLANK', () => {
    const base = { iface: 'bsg', openMode: 'read-only', capSysRawio: false, policy: 'ata-aware' } as const;
    expect(decidePermission({ ...base, cdb: IDENTIFY_16 })).toMatchObject({
      allowed: true,
      match: 'ata-command',
      command: { name: 'ATA PASS-THROUGH(16): IDENTIFY DEVICE' },
    });
    expect(decidePermission({ ...base, cdb: SECURITY_12, openMode: 'read-write' })).toMatchObject({
      allowed: false,
      rule: 'privileged',
    });
    expect(decidePermission({ ...base, cdb: ata32(0xec, 4, false) }).allowed).toBe(true);
    expect(decidePermission({ ...base, cdb: SMART_READ_12, deviceType: 5 })).toMatchObject({
      allowed: false,
      rule: 'write-safe-not-writable',
      command: { name: 'BLANK' },
    });
    const text = explainPermission(decidePermission({ ...base, cdb: SECURITY_12 }));
    expect(text).toContain('the sgv4 ATA command table');
  });
});
