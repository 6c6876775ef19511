import { describe, expect, it } from 'vitest';
import { runCaptured } from '../support/capture-io.js';

describe('sgv4 demo steps of the request model', () => {
  it('request-model step runs real code and reports tags and TMF outcomes', async () => {
    const r = await runCaptured(['demo', '--only', 'request-model']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('allocationLength: 252}) -> 12018300fc00');
    expect(r.stdout).toContain('160-byte struct sg_io_v4');
    expect(r.stdout).toContain('reusing tag 7: refused');
    expect(r.stdout).toContain('FUNCTION COMPLETE, task state aborted; tag 7 free again: true');
  });
  it('sense step decodes the samples', async () => {
    const r = await runCaptured(['demo', '--only', 'sense']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('fixed format -> Medium Error: Unrecovered read error, lba 0x1234');
    expect(r.stdout).toContain('descriptor format -> Illegal Request: Invalid field in cdb, cdb byte 2');
    expect(r.stdout).toContain('DeviceError: CHECK CONDITION: Medium Error');
    expect(r.stdout).toContain('(exit status 18)');
  });
});
