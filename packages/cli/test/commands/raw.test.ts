import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../support/capture-io.js';

const dir = mkdtempSync(join(tmpdir(), 'sgv4-raw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sgv4 raw on the host (no SCSI device)', () => {
  it('surfaces the kernel errno of a non-SCSI node as exit status 50 + errno', async () => {
    const run = await runCaptured(['raw', '/dev/null', '12', '00', '00', '00', '60', '00', '--in', '96']);
    expect(run.status).toBe(50 + 25); // ENOTTY
    expect(run.stderr).toContain('ENOTTY');
    expect(run.stderr).toContain('/dev/null');
  });

  it('reports a missing device as ENOENT', async () => {
    const run = await runCaptured(['raw', join(dir, 'nope'), '00', '00', '00', '00', '00', '00']);
    expect(run.status).toBe(50 + 2);
  });

  it('rejects bad arguments with a usage error naming them', async () => {
    const cases: [string[], RegExp, number][] = [
      [['raw', '/dev/null', '12', '00', '00'], /6\.\.32 bytes/, 1],
      [['raw', '/dev/null', 'zz', '00', '00', '00', '00', '00'], /<cdb-hex>: 'zz' is not hexadecimal/, 1],
      [['raw', '/dev/null', '120000006000', '--in', '-1'], /--in/, 1],
      [['raw', '/dev/null', '120000006000', '--in', '8', '--out', join(dir, 'x')], /exclude/, 31],
      [['raw', '/dev/null', '120000006000', '--save', join(dir, 'x')], /--save needs --in/, 1],
      [['raw', '/dev/null', '120000006000', '--timeout', 'soon'], /--timeout/, 1],
    ];
    for (const [argv, message, status] of cases) {
      const run = await runCaptured(argv);
      expect(run.status, argv.join(' ')).toBe(status);
      expect(run.stderr).toMatch(message);
    }
  });

  it('reads the data-out file before opening the device', async () => {
    const file = join(dir, 'payload');
    writeFileSync(file, Buffer.alloc(512, 0xab));
    const run = await runCaptured([
      'raw',
      '/dev/null',
      '2a',
      '00',
      '00000000',
      '00',
      '0001',
      '00',
      '--out',
      file,
    ]);
    expect(run.status).toBe(50 + 25);
  });
});
