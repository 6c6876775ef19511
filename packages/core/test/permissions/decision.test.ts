/**
 * The permission decision: the real differences between sg, bsg and block SG_IO in 6.1
 * (drivers/scsi/sg.c, block/bsg.c, drivers/scsi/scsi_ioctl.c, drivers/scsi/sd.c), CAP_SYS_RAWIO,
 * the scanner exception, and explain().
 */
import {
  decidePermission,
  explainPermission,
  InvalidFieldError,
  type PermissionDecision,
  PermissionDeniedError,
  type PermissionInterface,
  type PermissionOpenMode,
  type PermissionRequest,
  permissionDeniedErrorFor,
} from '@sgv4/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const INQUIRY = new Uint8Array([0x12, 0, 0, 0, 36, 0]);
const WRITE_10 = new Uint8Array([0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
const WRITE_BUFFER = new Uint8Array([0x3b, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

function decide(
  cdb: Uint8Array,
  iface: PermissionInterface,
  openMode: PermissionOpenMode,
  extra: Partial<PermissionRequest> = {},
): PermissionDecision {
  return decidePermission({ cdb, iface, openMode, capSysRawio: false, ...extra });
}

describe('Linux 6.1 rules per interface', () => {
  it('read-safe commands pass on any open of any interface', () => {
    for (const iface of ['sg', 'bsg', 'block'] as const) {
      expect(decide(INQUIRY, iface, 'read-only')).toMatchObject({ allowed: true });
    }
    expect(decide(INQUIRY, 'bsg', 'read-only')).toMatchObject({ rule: 'read-safe', filtered: true });
  });

  it('write-safe commands need a writable open; sg O_WRONLY gets write-class too', () => {
    expect(decide(WRITE_10, 'bsg', 'read-only')).toMatchObject({
      allowed: false,
      errno: 'EPERM',
      rule: 'write-safe-not-writable',
    });
    expect(decide(WRITE_10, 'bsg', 'write-only')).toMatchObject({
      allowed: true,
      rule: 'write-safe-writable',
    });
    expect(decide(WRITE_10, 'block', 'read-write')).toMatchObject({
      allowed: true,
      rule: 'write-safe-writable',
    });
    expect(decide(WRITE_10, 'sg', 'read-only')).toMatchObject({ allowed: false, errno: 'EPERM' });
    // sg filters an O_WRONLY fd (not O_RDWR) but with FMODE_WRITE, so write-class passes
    expect(decide(WRITE_10, 'sg', 'write-only')).toMatchObject({
      allowed: true,
      rule: 'write-safe-writable',
      filtered: true,
    });
  });

  it('privileged commands: bsg and block always filter, sg skips O_RDWR fds', () => {
    expect(decide(WRITE_BUFFER, 'bsg', 'read-write')).toMatchObject({ allowed: false, rule: 'privileged' });
    expect(decide(WRITE_BUFFER, 'block', 'read-write')).toMatchObject({ allowed: false, rule: 'privileged' });
    expect(decide(WRITE_BUFFER, 'sg', 'write-only')).toMatchObject({ allowed: false, rule: 'privileged' });
    expect(decide(WRITE_BUFFER, 'sg', 'read-write')).toMatchObject({
      allowed: true,
      rule: 'sg-read-write-unfiltered',
      filtered: false,
    });
  });

  it('sg never filters write(); write(2) on O_RDONLY fails with EBADF in the VFS', () => {
    expect(decide(WRITE_BUFFER, 'sg', 'write-only', { submission: 'write' })).toMatchObject({
      allowed: true,
      rule: 'sg-write-unfiltered',
    });
    expect(decide(INQUIRY, 'sg', 'read-only', { submission: 'write' })).toMatchObject({
      allowed: false,
      errno: 'EBADF',
    });
  });

  it('CAP_SYS_RAWIO bypasses the table', () => {
    expect(decide(WRITE_BUFFER, 'bsg', 'read-only', { capSysRawio: true })).toMatchObject({
      allowed: true,
      rule: 'cap-sys-rawio',
    });
  });

  it('sg does not filter scanners (TYPE_SCANNER 6); bsg does', () => {
    expect(decide(WRITE_BUFFER, 'sg', 'read-only', { deviceType: 6 })).toMatchObject({
      allowed: true,
      rule: 'sg-scanner-unfiltered',
    });
    expect(decide(WRITE_BUFFER, 'bsg', 'read-only', { deviceType: 6 })).toMatchObject({ allowed: false });
  });

  it('block SG_IO on a partition needs CAP_SYS_RAWIO even for INQUIRY (ENOTTY)', () => {
    expect(decide(INQUIRY, 'block', 'read-write', { partition: true })).toMatchObject({
      allowed: false,
      errno: 'ENOTTY',
      rule: 'block-partition-needs-rawio',
    });
    expect(decide(INQUIRY, 'block', 'read-write', { partition: true, capSysRawio: true }).allowed).toBe(true);
  });

  it('rejects bad input with InvalidFieldError naming the field', () => {
    expect(() => decide(new Uint8Array(0), 'sg', 'read-only')).toThrow(/cdb: must be a non-empty Uint8Array/);
    expect(() => decide(INQUIRY, 'sg', 'rw' as PermissionOpenMode)).toThrow(InvalidFieldError);
    expect(() => decide(INQUIRY, 'bsg', 'read-only', { submission: 'write' })).toThrow(/submission:/);
    expect(() => decide(INQUIRY, 'sg', 'read-only', { partition: true })).toThrow(/partition:/);
    expect(() => decide(INQUIRY, 'sg', 'read-only', { deviceType: 32 })).toThrow(/deviceType:/);
  });
});

describe('properties of the kernel policy', () => {
  const arbCdb = fc.uint8Array({ minLength: 6, maxLength: 32 });
  const arbMode = fc.constantFrom<PermissionOpenMode>('read-only', 'write-only', 'read-write');
  const arbIface = fc.constantFrom<PermissionInterface>('sg', 'bsg', 'block');

  it('only byte 0 matters', () => {
    fc.assert(
      fc.property(arbCdb, arbCdb, arbMode, arbIface, (a, b, mode, iface) => {
        const b2 = new Uint8Array(b);
        b2[0] = a[0] ?? 0;
        expect(decide(a, iface, mode).allowed).toBe(decide(b2, iface, mode).allowed);
      }),
    );
  });

  it('a writable open never allows less than a read-only one, and O_RDWR sg allows everything', () => {
    fc.assert(
      fc.property(arbCdb, arbIface, (cdb, iface) => {
        const ro = decide(cdb, iface, 'read-only').allowed;
        const wo = decide(cdb, iface, 'write-only').allowed;
        const rw = decide(cdb, iface, 'read-write').allowed;
        expect(!ro || wo).toBe(true);
        if (iface !== 'sg') expect(rw).toBe(wo);
        else expect(rw).toBe(true);
      }),
    );
  });
});

describe('explainPermission', () => {
  it('says which table and rule, and what to change', () => {
    const denied = explainPermission(decide(WRITE_10, 'sg', 'read-only'));
    expect(denied).toContain('WRITE_10 (0x2a) is write-safe in table linux-6.1');
    expect(denied).toContain('open the sg node O_RDWR');
    expect(denied).toContain('CAP_SYS_RAWIO');
    const bsg = explainPermission(decide(WRITE_BUFFER, 'bsg', 'read-write'));
    expect(bsg).toMatch(/^Denied \(EPERM\): opcode 0x3b is privileged in table linux-6\.1/);
    expect(bsg).toContain('use the /dev/sgN node');
    expect(explainPermission(decide(INQUIRY, 'bsg', 'read-only'))).toBe(
      'Allowed: INQUIRY (0x12) is read-safe in table linux-6.1, so any open of the bsg node may send it.',
    );
    expect(explainPermission(decide(INQUIRY, 'block', 'read-only', { partition: true }))).toContain(
      'whole-disk node',
    );
  });

  it('is one sentence for every rule', () => {
    const cases: PermissionDecision[] = [
      decide(INQUIRY, 'sg', 'read-only', { submission: 'write' }),
      decide(INQUIRY, 'sg', 'write-only', { submission: 'write' }),
      decide(INQUIRY, 'sg', 'read-write'),
      decide(INQUIRY, 'sg', 'read-only', { deviceType: 6 }),
      decide(INQUIRY, 'bsg', 'read-only', { capSysRawio: true }),
      decide(WRITE_10, 'bsg', 'write-only'),
    ];
    for (const d of cases) {
      const text = explainPermission(d);
      expect(text.endsWith('.')).toBe(true);
      expect(text.split('. ').length).toBe(1);
    }
  });
});

describe('permissionDeniedErrorFor', () => {
  it('carries the explanation and the errno the kernel returns', () => {
    expect(permissionDeniedErrorFor(decide(INQUIRY, 'bsg', 'read-only'))).toBeUndefined();
    const error = permissionDeniedErrorFor(decide(WRITE_BUFFER, 'bsg', 'read-only'));
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error).toMatchObject({ errno: 1, code: 'EPERM', exitStatus: 51 });
    expect(error?.explanation).toContain('grant CAP_SYS_RAWIO');
    expect(
      permissionDeniedErrorFor(decide(INQUIRY, 'block', 'read-only', { partition: true })),
    ).toMatchObject({
      errno: 25,
      code: 'ENOTTY',
    });
  });
});
