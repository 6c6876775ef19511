import { readFileSync } from 'node:fs';
import {
  getScsiDebugParam,
  getSgAllowDio,
  getSgDefReservedSize,
  LabConfigError,
  runUnprivileged,
  setScsiDebugParam,
  setSgAllowDio,
  setSgDefReservedSize,
} from '@sgv4/lab';
import { describe, expect, it } from 'vitest';

/** CAP_SYS_RAWIO is capability bit 17 (include/uapi/linux/capability.h). */
const CAP_SYS_RAWIO = 17n;

function effectiveCaps(status: string): bigint {
  const line = status.split('\n').find((l) => l.startsWith('CapEff:'));
  return BigInt(`0x${line?.split(/\s+/)[1] ?? '0'}`);
}

describe('guest-side helpers', () => {
  it('runUnprivileged runs as 65534 without CAP_SYS_RAWIO, while the test itself has it', async () => {
    const self = readFileSync('/proc/self/status', 'utf8');
    expect((effectiveCaps(self) >> CAP_SYS_RAWIO) & 1n).toBe(1n);
    const result = await runUnprivileged('cat', ['/proc/self/status']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Uid:\s+65534\s+65534\s+65534\s+65534$/m);
    expect(result.stdout).toMatch(/^Gid:\s+65534\s+65534\s+65534\s+65534$/m);
    expect(effectiveCaps(result.stdout)).toBe(0n);
  });

  it('runUnprivileged reports the exit status and stderr', async () => {
    const result = await runUnprivileged('sh', ['-c', 'echo no >&2; exit 3']);
    expect(result).toEqual({ status: 3, stdout: '', stderr: 'no\n' });
  });

  it('sets and reads scsi_debug run-time attributes, and names a load-time-only one', () => {
    const before = getScsiDebugParam('opts');
    setScsiDebugParam('opts', 0x10);
    expect(getScsiDebugParam('opts')).toMatch(/^(16|0x10)$/);
    setScsiDebugParam('opts', before.startsWith('0x') ? Number.parseInt(before, 16) : Number(before));
    expect(getScsiDebugParam('opts')).toBe(before);
    expect(() => getScsiDebugParam('no_such_knob')).toThrow(LabConfigError);
  });

  it('switches sg allow_dio and reloads sg with a new def_reserved_size', () => {
    setSgAllowDio(true);
    expect(getSgAllowDio()).toBe(true);
    setSgDefReservedSize(65536);
    expect(getSgDefReservedSize()).toBe(65536);
    // The reload keeps allow_dio.
    expect(getSgAllowDio()).toBe(true);
    setSgAllowDio(false);
    setSgDefReservedSize(32768);
    expect(getSgAllowDio()).toBe(false);
    expect(() => setSgDefReservedSize(2 * 1048576)).toThrow(
      /def_reserved_size must be an integer in 0..1048576/,
    );
  });
});
