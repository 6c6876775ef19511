/**
 * A Device is what @sgv4/sg3-compat runs sgv3 requests on: its `ScsiExecutor` (submit a request,
 * get the response whatever the status) is the Device's raw mode, with no adapter.
 */
import type { ScsiExecutor } from '@sgv4/sg3-compat';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/index.js';

describe('a Device as an sg3-compat ScsiExecutor', () => {
  it('runs requests and resolves CHECK CONDITION as a response', async () => {
    const device = await open('emu:', { identify: false });
    try {
      const executor: ScsiExecutor = device;
      const data = new Uint8Array(96);
      const good = await executor.submit({
        cdb: Uint8Array.of(0x12, 0, 0, 0, 96, 0),
        dataIn: data,
        timeoutMs: 1000,
      });
      expect(good.status).toBe(0);
      expect(Buffer.from(data.subarray(8, 12)).toString()).toBe('SGV4');
      const bad = await executor.submit({ cdb: Uint8Array.of(0x12, 1, 0xfe, 0, 96, 0), dataIn: data });
      expect(bad.statusName).toBe('CHECK CONDITION');
      expect(bad.decodedSense?.asc).toBe(0x24);
    } finally {
      await device.close();
    }
  });
});
