/**
 * scsi_debug's injected faults (drivers/scsi/scsi_debug.c, Linux 6.1: `opts` with `every_nth`)
 * through the device API on each kernel path: each surfaces as the right typed outcome, and the
 * commands around it complete intact. (Medium errors and timeouts are in the conformance suite.)
 */
import { DeviceError, ExitStatus, ResultCategory, SenseKey } from '@sgv4/core';
import { getScsiDebugParam, labDeviceNodes, setScsiDebugParam } from '@sgv4/lab';
import { afterAll, describe, expect, it } from 'vitest';
import { type Device, open } from '../../src/index.js';

const nodes = labDeviceNodes();
const saved = {
  opts: getScsiDebugParam('opts'),
  everyNth: getScsiDebugParam('every_nth'),
  delay: getScsiDebugParam('delay'),
};
afterAll(() => {
  setScsiDebugParam('opts', saved.opts);
  setScsiDebugParam('every_nth', saved.everyNth);
  setScsiDebugParam('delay', saved.delay);
});

/** READ(10) of one block at LBA 0. */
const READ = Uint8Array.of(0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);

/** Runs `n` READ(10)s of one block one after the other in raw mode. */
async function reads(device: Device, n: number) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await device.submit({ cdb: READ, dataIn: new Uint8Array(512) }));
  return out;
}

describe.each([
  ['sg', nodes.sg[0] as string],
  ['bsg', nodes.bsg[0] as string],
  ['block', nodes.block[0] as string],
])('injected faults on %s', (_kind, path) => {
  it('RECOVERED ERROR (opts=8, media access commands) on every 3rd READ: a success with sense in raw mode and for the helpers', async () => {
    const device = await open(path, { identify: false });
    try {
      setScsiDebugParam('opts', 0x8);
      setScsiDebugParam('every_nth', 3);
      const rs = await reads(device, 6);
      const recovered = rs.filter((r) => r.decodedSense?.senseKey === SenseKey.RECOVERED_ERROR);
      expect(recovered.length).toBeGreaterThanOrEqual(1);
      expect(recovered.every((r) => r.category === ResultCategory.SENSE)).toBe(true);
      expect(rs.filter((r) => r.category === ResultCategory.GOOD).length + recovered.length).toBe(6);
      // execute() treats RECOVERED ERROR as success (sg3_utils' SG_LIB_CAT_RECOVERED).
      for (let i = 0; i < 3; i++) expect((await device.read(0n, 1, { blockSize: 512 })).length).toBe(512);
    } finally {
      setScsiDebugParam('opts', saved.opts);
      setScsiDebugParam('every_nth', saved.everyNth);
      await device.close();
    }
  });

  it('ABORTED COMMAND (opts=0x10) on every 3rd command: DeviceError exit 11, the others GOOD', async () => {
    const device = await open(path, { identify: false });
    // scsi_debug injects the transport error only on its deferred response path (schedule_resp):
    // with delay=0 it answers in the submitting thread without it.
    setScsiDebugParam('delay', 1);
    try {
      setScsiDebugParam('opts', 0x10);
      setScsiDebugParam('every_nth', 3);
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => device.testUnitReady()));
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(failed.length).toBeGreaterThanOrEqual(1);
      for (const f of failed) {
        expect(f.reason).toBeInstanceOf(DeviceError);
        expect((f.reason as DeviceError).sense?.senseKey).toBe(SenseKey.ABORTED_COMMAND);
        expect((f.reason as DeviceError).exitStatus).toBe(ExitStatus.ABORTED_COMMAND);
      }
      expect(results.length - failed.length).toBeGreaterThanOrEqual(3);
    } finally {
      setScsiDebugParam('opts', saved.opts);
      setScsiDebugParam('every_nth', saved.everyNth);
      setScsiDebugParam('delay', saved.delay);
      await device.close();
    }
  });
});
