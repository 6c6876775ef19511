/**
 * A command never runs twice: synchronous requests under a storm of signals (SIGUSR2 and
 * SIGCHLD at >= 1 kHz, aimed at the thread that waits), counted at the device
 * (iorequest_cnt) against the commands issued. On sg the addon never uses SG_IO, which a
 * signal makes the kernel orphan and libuv's SA_RESTART handlers send again; bsg's SG_IO
 * waits uninterruptibly and is safe as it is; an sg node opened read-only (no write()) gets
 * SG_IO with every blockable signal blocked.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openScsiHandle, type ScsiHandle } from '@sgv4/native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchedCommands, hctlOfSg, type Latency, labNodes, latency, setLatency } from './lab-nodes.js';
import { encodedHeader, read10Cdb } from './scsi-commands.js';

const here = dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'sgv4-signals-'));
const storm = join(work, 'signal-storm');
/** 2 kHz asked for; the test checks that at least 1 kHz was delivered. */
const PERIOD_NS = 500_000;

interface StormResult {
  sent: number;
  seconds: number;
}

/** Runs `body` (synchronous) while the storm hits this process's main thread. */
async function underStorm(body: () => void): Promise<StormResult> {
  const child = spawn(storm, [String(process.pid), String(process.pid), String(PERIOD_NS)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve())); // stdout read to its end
  await new Promise((resolve) => setTimeout(resolve, 100)); // the storm is running
  body();
  child.stdin.end();
  await exited;
  const [sent, ns] = out.trim().split(' ').map(Number);
  return { sent: sent ?? 0, seconds: (ns ?? 0) / 1e9 };
}

let saved: Latency;
const onSignal = (): void => {};
beforeAll(async () => {
  const built = spawnSync('cc', ['-O2', '-o', storm, join(here, 'fixtures', 'signal-storm.c')], {
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`cc failed: ${built.stderr}`);
  // A JS listener installs libuv's handler (SA_RESTART), the setting under which an
  // interrupted SG_IO on sg is silently sent again.
  process.on('SIGUSR2', onSignal);
  saved = latency();
  await setLatency({ ndelay: 100_000 }); // 100 us per command: the waits the signals interrupt
});
afterAll(async () => {
  process.off('SIGUSR2', onSignal);
  await setLatency(saved); // the guest is shared by every lab file
  rmSync(work, { recursive: true, force: true });
});

function runSync(handle: ScsiHandle, count: number): void {
  const header = encodedHeader({ requestLen: 10, dinXferLen: 512 });
  const cdb = read10Cdb(0, 1);
  const sense = new Uint8Array(32);
  const data = new Uint8Array(512);
  for (let i = 0; i < count; i++) handle.sgIoSyncEncoded(header, cdb, sense, null, data);
}

describe('under a signal storm, each synchronous command reaches the device once', () => {
  it.each([
    ['sg (write + read), 10000 commands', labNodes.sg, 10_000, true],
    ['bsg (SG_IO), 2000 commands', labNodes.bsg, 2_000, true],
    ['sg opened read-only (SG_IO with signals blocked), 2000 commands', labNodes.sg, 2_000, false],
  ] as const)('%s', async (_name, path, count, readWrite) => {
    const hctl = hctlOfSg(labNodes.sg);
    const handle = openScsiHandle(path, { readWrite });
    expect(handle.capabilities.asyncQueue).toBe(readWrite && path === labNodes.sg);
    const before = dispatchedCommands(hctl);
    const { sent, seconds } = await underStorm(() => runSync(handle, count));
    const dispatched = dispatchedCommands(hctl) - before;
    await handle.close();
    expect(sent / seconds).toBeGreaterThanOrEqual(1000);
    expect(dispatched).toBe(count);
  });
});
