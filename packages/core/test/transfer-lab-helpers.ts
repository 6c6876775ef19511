/**
 * Helpers of the transfer lab tests: build and run the sg-transfer-probe C
 * program inside the guest, find the scsi_debug sg node and read its queue
 * limits from sysfs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSysfsQueueLimits, type QueueLimits, SYSFS_QUEUE_LIMIT_FILES } from '@sgv4/core';

/** One JSON line of the probe. */
export interface ProbeResult {
  readonly op: string;
  readonly ret: 0 | -1;
  readonly errno: string | null;
  readonly value: number;
  readonly info?: number;
  readonly status?: number;
  readonly host?: number;
  readonly driver?: number;
}

const PROBE_SOURCE = fileURLToPath(new URL('./probes/sg-transfer-probe.c', import.meta.url));

/** Compiles the probe into a fresh writable temp directory (the guest sees the repo read-only). */
export function buildProbe(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sgv4-probe-'));
  const binary = join(dir, 'sg-transfer-probe');
  execFileSync('gcc', ['-O1', '-Wall', '-o', binary, PROBE_SOURCE], { stdio: 'pipe' });
  return binary;
}

/** Runs the probe with `script` lines and returns one result per line. */
export function runProbe(binary: string, device: string, script: readonly string[]): ProbeResult[] {
  const run = spawnSync(binary, [device], { input: `${script.join('\n')}\n`, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`probe failed (${run.status}): ${run.stderr}`);
  const results = run.stdout
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as ProbeResult);
  if (results.length !== script.length) {
    throw new Error(`probe answered ${results.length} of ${script.length} operations: ${run.stderr}`);
  }
  return results;
}

/** The first sg node backed by a scsi_debug disk, with its block device's queue directory. */
export function scsiDebugSgNode(): {
  device: string;
  queueDir: string;
  disk: string;
  bsg: string | undefined;
} {
  const base = '/sys/class/scsi_generic';
  for (const name of readdirSync(base).sort()) {
    const dev = join(base, name, 'device');
    const model = existsSync(join(dev, 'model')) ? readFileSync(join(dev, 'model'), 'utf8').trim() : '';
    const blockDir = join(dev, 'block');
    if (model !== 'scsi_debug' || !existsSync(blockDir)) continue;
    const [disk] = readdirSync(blockDir);
    const bsgDir = join(dev, 'bsg');
    const [bsgName] = existsSync(bsgDir) ? readdirSync(bsgDir) : [];
    const bsg = bsgName === undefined ? undefined : `/dev/bsg/${bsgName}`;
    if (disk !== undefined) {
      return { device: `/dev/${name}`, queueDir: join(blockDir, disk, 'queue'), disk: `/dev/${disk}`, bsg };
    }
  }
  throw new Error('no scsi_debug disk with an sg node in this guest');
}

/**
 * The device's queue limits read with the sysfs parser. seg_boundary_mask is
 * not in sysfs: scsi_debug with clustering=0 (the default) uses PAGE_SIZE - 1.
 */
export function readQueueLimits(queueDir: string): QueueLimits {
  const files: Record<string, string> = {};
  for (const file of SYSFS_QUEUE_LIMIT_FILES) {
    const path = join(queueDir, file);
    if (existsSync(path)) files[file] = readFileSync(path, 'utf8');
  }
  return parseSysfsQueueLimits(files, { segBoundaryMask: 4095 }).limits;
}

/**
 * Sets sg's allow_dio and reads it back: /proc/scsi/sg/allow_dio when the kernel has
 * CONFIG_SCSI_PROC_FS, else the module parameter (both write `sg_allow_dio`).
 */
export function setAllowDio(on: boolean): boolean {
  const proc = '/proc/scsi/sg/allow_dio';
  const path = existsSync(proc) ? proc : '/sys/module/sg/parameters/allow_dio';
  writeFileSync(path, on ? '1\n' : '0\n');
  return readFileSync(path, 'utf8').trim() === '1';
}

/** mulberry32: a small seeded PRNG so the randomized cases are the same every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
