import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  type DecodedSense,
  DeviceError,
  ExitStatus,
  InvalidFieldError,
  MalformedDataError,
  NotSupportedError,
  OsError,
  PermissionDeniedError,
  ResultCategory,
  resultCategoryName,
  Sgv4Error,
  TimeoutError,
  TransportError,
} from '../../src/index.js';

function sense(partial: Partial<DecodedSense>): DecodedSense {
  return {
    format: 'fixed',
    responseCode: 0x70,
    current: true,
    senseKey: 3,
    senseKeyName: 'Medium Error',
    asc: 0x11,
    ascq: 0,
    ascText: 'Unrecovered read error',
    filemark: false,
    endOfMedium: false,
    incorrectLength: false,
    overflow: false,
    descriptors: [],
    length: 18,
    ...partial,
  };
}

describe('OsError', () => {
  it('names the call, path, code and strerror text', () => {
    const e = OsError.fromErrno(-2, 'open', '/dev/sg0');
    expect(e).toBeInstanceOf(Sgv4Error);
    expect(e.message).toBe('open /dev/sg0: ENOENT (no such file or directory)');
    expect([e.errno, e.code, e.syscall, e.path]).toEqual([2, 'ENOENT', 'open', '/dev/sg0']);
    expect(e.exitStatus).toBe(52);
    expect(e.name).toBe('OsError');
  });
  it('maps errno above 46 to the OS base status, and unknown errnos to E<n>', () => {
    expect(OsError.fromErrno(95, 'ioctl(SG_IO)').exitStatus).toBe(ExitStatus.OS_BASE_ERR);
    expect(OsError.fromErrno(95, 'ioctl(SG_IO)').code).toBe('EOPNOTSUPP');
    expect(OsError.fromErrno(4000, 'x').code).toBe('E4000');
    expect(OsError.fromErrno(512, 'ioctl(SG_IO)').code).toBe('ERESTARTSYS');
  });
  it('wraps a Node.js system error', () => {
    const nodeError = Object.assign(new Error('x'), {
      errno: -13,
      code: 'EACCES',
      syscall: 'open',
      path: '/p',
    });
    const e = OsError.fromNodeError(nodeError);
    expect(e?.message).toBe('open /p: EACCES (permission denied)');
    expect(e?.cause).toBe(nodeError);
    expect(OsError.fromNodeError(new Error('plain'))).toBeUndefined();
  });
});

describe('TransportError and DeviceError', () => {
  it('names host and driver bytes', () => {
    const e = new TransportError(0x01, 0);
    expect(e.hostStatusName).toBe('DID_NO_CONNECT');
    expect(e.driverStatusName).toBe('DRIVER_OK');
    expect(e.exitStatus).toBe(ExitStatus.TRANSPORT_ERROR);
    expect(e.message).toContain("couldn't connect");
    expect(new TransportError(0x7f, 0x26).message).toContain('DID_0x7f');
    expect(new TransportError(0, 0x26).driverStatusName).toBe('DRIVER_TIMEOUT|SUGGEST_ABORT');
  });
  it('classifies status-only and sense errors like sg3_utils', () => {
    const busy = new DeviceError(0x08);
    expect([busy.statusName, busy.category, busy.exitStatus, busy.sense]).toEqual([
      'BUSY',
      ResultCategory.STATUS,
      ExitStatus.BUSY,
      undefined,
    ]);
    const medium = new DeviceError(0x02, sense({}), 'Medium Error: Unrecovered read error');
    expect(medium.category).toBe(ResultCategory.SENSE);
    expect(medium.exitStatus).toBe(ExitStatus.MEDIUM_HARD);
    expect(medium.message).toBe('CHECK CONDITION: Medium Error: Unrecovered read error');
    expect(new DeviceError(2, sense({ information: 0x1234n })).exitStatus).toBe(
      ExitStatus.MEDIUM_HARD_WITH_INFO,
    );
    expect(new DeviceError(2, sense({ senseKey: 5, asc: 0x20, ascq: 0 })).exitStatus).toBe(
      ExitStatus.INVALID_OP,
    );
    expect(new DeviceError(2, sense({ senseKey: 5, asc: 0x21, ascq: 0 })).exitStatus).toBe(
      ExitStatus.LBA_OUT_OF_RANGE,
    );
    expect(new DeviceError(2, sense({ senseKey: 0xb, asc: 0x10, ascq: 1 })).exitStatus).toBe(
      ExitStatus.PROTECTION,
    );
    expect(new DeviceError(2, sense({ senseKey: 0xb, asc: 0x47 })).exitStatus).toBe(
      ExitStatus.ABORTED_COMMAND,
    );
    expect(new DeviceError(2).exitStatus).toBe(ExitStatus.SENSE);
  });
});

describe('the other errors', () => {
  it('carry their fields and exit statuses', () => {
    const t = new TimeoutError('INQUIRY on /dev/sg0', 500);
    expect([t.message, t.timeoutMs, t.exitStatus]).toEqual([
      'INQUIRY on /dev/sg0: timed out after 500 ms',
      500,
      33,
    ]);
    const a = new AbortedError('READ(10) tag 7', 'user');
    expect([a.canceled, a.reason, a.message]).toEqual([true, 'user', 'READ(10) tag 7: canceled']);
    const p = new PermissionDeniedError('WRITE(10) needs the device opened for writing');
    expect([p.code, p.exitStatus, p.explanation]).toEqual([
      'EPERM',
      51,
      'WRITE(10) needs the device opened for writing',
    ]);
    const n = new NotSupportedError('task tags', 'mainline bsg ignores request_tag');
    expect([n.capability, n.message]).toEqual([
      'task tags',
      'task tags not supported: mainline bsg ignores request_tag',
    ]);
    const m = new MalformedDataError({ what: 'VPD page 0x83', offset: 8, needed: 4, available: 2 });
    expect([m.message, m.exitStatus]).toEqual([
      'VPD page 0x83: needs 4 bytes at offset 8, only 2 available',
      97,
    ]);
    expect(() => MalformedDataError.require('x', new Uint8Array(3), 2, 2)).toThrow(MalformedDataError);
  });
  it('InvalidFieldError is a RangeError naming field, rule and value', () => {
    const e = new InvalidFieldError('timeout', 'must be an integer in 0..4294967295', -1);
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toBe('timeout: must be an integer in 0..4294967295 (got -1)');
    expect([e.field, e.rule, e.value, e.exitStatus, e.name]).toEqual([
      'timeout',
      'must be an integer in 0..4294967295',
      -1,
      1,
      'InvalidFieldError',
    ]);
    expect(new InvalidFieldError('tag', 'r', 5n).message).toBe('tag: r (got 5n)');
    expect(new InvalidFieldError('cmd', 'r', 'x').message).toBe('cmd: r (got "x")');
  });
  it('orders result categories', () => {
    expect(ResultCategory.GOOD < ResultCategory.STATUS).toBe(true);
    expect(ResultCategory.SENSE < ResultCategory.TRANSPORT_ERR).toBe(true);
    expect(resultCategoryName(ResultCategory.OS_ERR)).toBe('OS_ERR');
  });
});
