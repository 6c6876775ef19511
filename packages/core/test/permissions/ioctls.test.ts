/**
 * The other submission ioctls and sg's credential check (Linux 6.1): SCSI_IOCTL_SEND_COMMAND
 * (sg_ioctl_common -> scsi_ioctl -> sg_scsi_ioctl, always filtered; bsg_ioctl EINVAL),
 * CDROM_SEND_PACKET (sg_ioctl_common refuses it on a non-O_RDWR fd, then
 * scsi_cdrom_send_packet -> sg_io filters; bsg ENOTTY) and sg_check_file_access.
 */
import {
  decidePermission,
  explainPermission,
  InvalidFieldError,
  PERMISSION_RULE_SOURCES,
  type PermissionInterface,
  type PermissionOpenMode,
  type PermissionRequest,
  permissionDeniedErrorFor,
  sgFileAccessRefused,
  TYPE_SCANNER,
} from '@sgv4/core';
import { describe, expect, it } from 'vitest';

const INQUIRY = Uint8Array.of(0x12, 0, 0, 0, 36, 0);
const WRITE_10 = Uint8Array.of(0x2a, 0, 0, 0, 0, 0, 0, 0, 0, 0);
const VENDOR = Uint8Array.of(0xc0, 0, 0, 0, 0, 0);

function decide(
  cdb: Uint8Array,
  iface: PermissionInterface,
  openMode: PermissionOpenMode,
  extra: Partial<PermissionRequest> = {},
) {
  return decidePermission({ cdb, iface, openMode, capSysRawio: false, ...extra });
}

describe('SCSI_IOCTL_SEND_COMMAND', () => {
  const send = { submission: 'send-command' } as const;
  it('on sg it is filtered in every open mode: no O_RDWR or scanner bypass, unlike SG_IO', () => {
    expect(decide(VENDOR, 'sg', 'read-write', send)).toMatchObject({
      allowed: false,
      errno: 'EPERM',
      rule: 'privileged',
    });
    expect(decide(VENDOR, 'sg', 'read-write')).toMatchObject({
      allowed: true,
      rule: 'sg-read-write-unfiltered',
    });
    expect(decide(VENDOR, 'sg', 'read-only', { ...send, deviceType: TYPE_SCANNER }).allowed).toBe(false);
    expect(decide(INQUIRY, 'sg', 'read-only', send)).toMatchObject({ allowed: true, rule: 'read-safe' });
    expect(decide(WRITE_10, 'sg', 'read-only', send).rule).toBe('write-safe-not-writable');
    expect(decide(WRITE_10, 'sg', 'write-only', send).rule).toBe('write-safe-writable');
    expect(decide(VENDOR, 'sg', 'read-only', { ...send, capSysRawio: true }).rule).toBe('cap-sys-rawio');
  });
  it('bsg refuses it with EINVAL before any table; the block device filters it', () => {
    const d = decide(INQUIRY, 'bsg', 'read-write', send);
    expect(d).toMatchObject({ allowed: false, errno: 'EINVAL', rule: 'bsg-send-command-unsupported' });
    expect(d.kernelFunction).toBe('bsg_ioctl (block/bsg.c)');
    expect(permissionDeniedErrorFor(d)?.errno).toBe(22);
    expect(explainPermission(d)).toMatch(/SG_IO/);
    expect(decide(VENDOR, 'block', 'read-write', send).rule).toBe('privileged');
    expect(decide(INQUIRY, 'block', 'read-only', { ...send, partition: true }).rule).toBe(
      'block-partition-needs-rawio',
    );
  });
});

describe('CDROM_SEND_PACKET', () => {
  const packet = { submission: 'cdrom-packet' } as const;
  it('sg: EPERM on a non-O_RDWR fd for any command, even with CAP_SYS_RAWIO; O_RDWR is filtered', () => {
    for (const mode of ['read-only', 'write-only'] as const) {
      expect(decide(INQUIRY, 'sg', mode, { ...packet, capSysRawio: true })).toMatchObject({
        allowed: false,
        errno: 'EPERM',
        rule: 'sg-ioctl-needs-read-write',
        kernelFunction: 'sg_ioctl_common (drivers/scsi/sg.c)',
      });
    }
    expect(decide(INQUIRY, 'sg', 'read-write', packet).rule).toBe('read-safe');
    expect(decide(VENDOR, 'sg', 'read-write', packet).rule).toBe('privileged');
    expect(explainPermission(decide(VENDOR, 'sg', 'read-write', packet))).toMatch(/send it with SG_IO/);
  });
  it('bsg: ENOTTY; block: filtered with the open mode', () => {
    expect(decide(INQUIRY, 'bsg', 'read-only', packet)).toMatchObject({
      errno: 'ENOTTY',
      rule: 'bsg-ioctl-unknown',
    });
    expect(decide(INQUIRY, 'block', 'read-only', packet).allowed).toBe(true);
    expect(decide(WRITE_10, 'block', 'read-only', packet).rule).toBe('write-safe-not-writable');
  });
});

describe('sg_check_file_access', () => {
  it('write() and read() fail with EPERM after a credential change; ioctls do not check', () => {
    expect(
      decide(INQUIRY, 'sg', 'read-write', { submission: 'write', credentialsChanged: true }),
    ).toMatchObject({
      allowed: false,
      errno: 'EPERM',
      rule: 'sg-file-credentials-changed',
    });
    // The VFS's EBADF comes first on an O_RDONLY fd.
    expect(decide(INQUIRY, 'sg', 'read-only', { submission: 'write', credentialsChanged: true }).errno).toBe(
      'EBADF',
    );
    expect(decide(VENDOR, 'sg', 'read-write', { credentialsChanged: true }).allowed).toBe(true);
    expect([sgFileAccessRefused('read', true), sgFileAccessRefused('write', true)]).toEqual([true, true]);
    expect([sgFileAccessRefused('ioctl', true), sgFileAccessRefused('read', false)]).toEqual([false, false]);
    expect(
      explainPermission(
        decide(INQUIRY, 'sg', 'write-only', { submission: 'write', credentialsChanged: true }),
      ),
    ).toMatch(/sg_check_file_access/);
  });
  it('is an sg input only; submissions are checked', () => {
    expect(() => decide(INQUIRY, 'bsg', 'read-only', { credentialsChanged: true })).toThrow(
      InvalidFieldError,
    );
    expect(() => decide(INQUIRY, 'sg', 'read-only', { submission: 'mmap' as unknown as 'ioctl' })).toThrow(
      /submission/,
    );
  });
  it('every rule has its kernel source', () => {
    for (const source of Object.values(PERMISSION_RULE_SOURCES))
      expect(source).toMatch(/\([a-z]+\/[a-z_/-]+\.c\)$/);
  });
});
