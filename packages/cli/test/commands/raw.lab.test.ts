import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../support/capture-io.js';

const dir = mkdtempSync(join(tmpdir(), 'sgv4-raw-lab-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each([
  ['/dev/sg0', 'sg', 'v3'],
  ['/dev/bsg/0:0:0:0', 'bsg', 'v4'],
  ['/dev/sda', 'block', 'v3'],
])('sgv4 raw %s', (device, kind, abi) => {
  it('INQUIRY: status GOOD, no residual, the identity in the data', async () => {
    const run = await runCaptured(['raw', device, '12 00 00 00 60 00', '--in', '96', '--json']);
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({
      nodeKind: kind,
      abi,
      status: 0,
      statusName: 'GOOD',
      residual: 0,
      transferred: 96,
    });
    expect(Buffer.from(out.data, 'hex').subarray(8, 18).toString()).toBe('Linux   sc');
  });

  it('an unsupported VPD page: CHECK CONDITION, decoded sense, sg3_utils exit status 5', async () => {
    const run = await runCaptured(['raw', device, '12 01 fe 00 60 00', '--in', '96']);
    expect(run.status).toBe(5);
    expect(run.stdout).toMatch(/SCSI status: CHECK CONDITION/);
    expect(run.stdout).toMatch(/sense: Illegal Request/);
  });

  it('READ CAPACITY(10) saved to a file', async () => {
    const file = join(dir, `cap-${kind}`);
    const run = await runCaptured(['raw', device, '25000000000000000000', '--in', '8', '--save', file]);
    expect(run.status).toBe(0);
    expect(readFileSync(file).readUInt32BE(4)).toBe(512);
  });
});
