import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCaptured } from '../support/capture-io.js';

describe('sgv4 limits', () => {
  it('prints a preset as a table', async () => {
    const run = await runCaptured(['limits', '--preset', 'scsi-debug']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^preset:scsi-debug/);
    expect(run.stdout).toMatch(/max_segments\s+2048/);
    expect(run.stdout).toMatch(/seg_boundary_mask\s+0xfff\b/);
  });
  it('reads a sysfs directory and reports the assumed fields in JSON', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgv4-queue-'));
    writeFileSync(join(dir, 'max_segments'), '128\n');
    writeFileSync(join(dir, 'dma_alignment'), '3\n');
    writeFileSync(join(dir, 'max_sectors_kb'), '512\n');
    writeFileSync(join(dir, 'max_hw_sectors_kb'), '512\n');
    const run = await runCaptured(['limits', '--sysfs', dir, '--json']);
    expect(run.status).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.limits).toMatchObject({
      maxSegments: 128,
      dmaAlignment: 3,
      maxSectors: 1024,
      maxHwSectors: 1024,
    });
    expect(doc.queueMaxBytes).toBe(524288);
    expect(doc.assumed.map((a: { field: string }) => a.field)).toContain('segBoundaryMask');
  });
  it('rejects an unknown preset and contradictory options', async () => {
    expect((await runCaptured(['limits', '--preset', 'nope'])).status).toBe(1);
    expect((await runCaptured(['limits', '--preset', 'nvme-like', '--sysfs', '/tmp'])).status).toBe(31);
  });
});

describe('sgv4 plan', () => {
  it('explains a copy and names the iovec', async () => {
    const run = await runCaptured([
      'plan',
      '--limits',
      'kernel-default',
      '--iov',
      '0x10000:4096,0x20001:512',
      '--dir',
      'in',
    ]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/mode: copy into bounce-pages/);
    expect(run.stdout).toMatch(/iovec 1 address is not aligned/);
  });
  it('shows sg direct IO and the table in JSON', async () => {
    const run = await runCaptured([
      'plan',
      '--limits',
      'scsi-debug',
      '--iov',
      '0x10004:8192',
      '--dir',
      'in',
      '--iface',
      'sg',
      '--dio',
      '--json',
    ]);
    const plan = JSON.parse(run.stdout);
    expect(plan).toMatchObject({ outcome: 'mapped', mode: 'zero-copy', sgDirectIo: true, nrPhysSegments: 3 });
    expect(plan.table.chunks[0]).toMatchObject({ source: 'inline', chained: true });
  });
  it('prints the errno the kernel would return', async () => {
    const run = await runCaptured(['plan', '--limits', 'kernel-default', '--iov', '0:131072', '--dir', 'in']);
    expect(run.stdout).toMatch(/refused: EIO/);
  });
  it('reads limits from a JSON file and rejects impossible ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgv4-limits-'));
    mkdirSync(dir, { recursive: true });
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ maxSegments: 4, dmaAlignment: 3 }));
    const run = await runCaptured([
      'plan',
      '--limits',
      good,
      '--iov',
      '0x1000:32768',
      '--dir',
      'out',
      '--frames',
      'scattered',
    ]);
    expect(run.stdout).toMatch(/refused: EINVAL .*max_segments 4/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ dmaAlignment: 6 }));
    const failed = await runCaptured(['plan', '--limits', bad, '--iov', '0:512', '--dir', 'in']);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/dmaAlignment/);
    const misspelt = join(dir, 'misspelt.json');
    writeFileSync(misspelt, JSON.stringify({ maxSegment: 4 }));
    const refused = await runCaptured(['plan', '--limits', misspelt, '--iov', '0:512', '--dir', 'in']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/maxSegment.*is not a QueueLimits field.*maxSegments/);
  });
  it('rejects a malformed --iov', async () => {
    const run = await runCaptured(['plan', '--limits', 'scsi-debug', '--iov', '12', '--dir', 'in']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/--iov entry 0 must be ADDR:LEN/);
  });
});

describe('demo steps limits and plan', () => {
  it('print the presets and real plans', async () => {
    const run = await runCaptured(['demo', '--only', 'limits', '--only', 'plan']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/scsi-debug\s+2048/);
    expect(run.stdout).toMatch(/sg, 64 KiB at 0x10004 with direct IO: zero-copy, SG_INFO_DIRECT_IO set/);
    expect(run.stdout).toMatch(/sg, same buffer at 0x10002: copy \(rq-map-data\), SG_INFO_DIRECT_IO clear/);
    expect(run.stdout).toMatch(/128 KiB on a default queue.*refused with EIO/);
  });
});
