/**
 * The lab's C probes compiled on the host (host tier: needs gcc): built once into the cache,
 * reused while sources and compiler are unchanged, stale builds removed, and the binaries run
 * here as they will in the guest.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureLabProbes, LAB_PROBES } from '../../src/host/probes.js';

describe('ensureLabProbes', () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'sgv4-probes-test-'));
  afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('compiles every probe once, then reuses the build and removes stale ones', () => {
    mkdirSync(join(cacheDir, 'probes-0000000000000000'));
    const first = ensureLabProbes({ cacheDir });
    expect(first.built).toBe(true);
    for (const name of LAB_PROBES) expect(existsSync(join(first.dir, name)), name).toBe(true);
    expect(readdirSync(cacheDir)).toEqual([first.dir.split('/').pop()]);
    expect(ensureLabProbes({ cacheDir })).toEqual({ dir: first.dir, built: false });
  }, 60_000);

  it('gives binaries that run on the host as in the guest (a script in, one JSON line per op out)', () => {
    const { dir } = ensureLabProbes({ cacheDir });
    const run = spawnSync(join(dir, 'sg-submit-probe'), [], {
      input: 'open 0 /dev/null ro\nv3 0 ioctl 0x53 6 120000002400 from 36 0 0 arena\n',
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { op: string; errno: string | null });
    expect(lines.map((l) => [l.op, l.errno])).toEqual([
      ['open', null],
      ['v3', 'ENOTTY'],
    ]);
  });

  it('names gcc when it cannot run', () => {
    expect(() => ensureLabProbes({ cacheDir, gcc: '/nonexistent/gcc' })).toThrow(/install gcc/);
  });
});
