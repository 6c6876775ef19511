import { describe, expect, it } from 'vitest';
import { LabConfigError } from '../../src/errors.js';
import { deleteDeviceWhenBusy, settleDevice } from '../../src/guest/device-removal.js';

// Bad input is refused before any sysfs file is read or any shell starts (the address goes into
// the deleting shell's command line); the helpers' real work is exercised by the lab tests that
// delete devices (native abandoned-requests, iSCSI late-data-in).
describe('device removal helpers: bad input', () => {
  it.each(['0:0:0:0; rm -rf /tmp/x', '0:0:0', 'sg0', '', '0:0:0:0 '])('hctl %j is refused', async (hctl) => {
    for (const call of [() => settleDevice(hctl), () => deleteDeviceWhenBusy(hctl, 1)]) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LabConfigError);
      expect(error).toMatchObject({ field: 'hctl' });
    }
  });

  it.each([
    ['busy', () => deleteDeviceWhenBusy('1:0:0:0', 0)],
    ['busy', () => deleteDeviceWhenBusy('1:0:0:0', 1.5)],
    ['intervalMs', () => settleDevice('1:0:0:0', { intervalMs: 0 })],
    ['maxPolls', () => settleDevice('1:0:0:0', { maxPolls: Number.NaN })],
  ] as const)('%s out of range is refused', async (field, call) => {
    const error = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LabConfigError);
    expect(error).toMatchObject({ field, rule: 'an integer >= 1' });
  });
});
