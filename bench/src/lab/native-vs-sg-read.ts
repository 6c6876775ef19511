/**
 * Per-command cost of the @sgv4/native paths against sg3_utils' `sg_read`, in ONE lab boot
 * (run as root inside the guest: `pnpm bench:lab`). Every figure is measured in the same
 * run; the result is the ratio to sg_read.
 *
 * sg_read (C, a loop of SG_IO on one sg fd, READ(10) of `bpt` blocks, QD1) is measured at
 * 4 KiB (bpt=8) and 512 KiB (bpt=1024), indirect and mmap=1. The addon runs the same READ(10)
 * through: synchronous SG_IO (sg), promise SG_IO on the libuv threadpool (sg and bsg), and
 * sg's write()/poll/read() (promise), each indirect and (sg only) SG_FLAG_MMAP_IO.
 * Two floors measured in the same run attribute the remaining cost: an empty
 * `await setImmediate` round trip (one event-loop turn, which every promise path pays)
 * and a threadpool round trip (fs.read of 1 byte from /dev/zero; node answers a 0-byte read
 * without the threadpool).
 *
 * Output: JSON on stdout, also written to `$SGV4_LAB_RESULTS/native-vs-sg-read.json` when
 * that writable share is set.
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, read, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSgIoV4Header, encodeSgIoV4, SG_FLAG_MMAP_IO } from '@sgv4/core';
import { openScsiHandle, type ScsiHandle } from '@sgv4/native';

const SG = process.env.SGV4_BENCH_SG ?? '/dev/sg0';
const BSG = process.env.SGV4_BENCH_BSG ?? '/dev/bsg/0:0:0:0';
const BLOCK = 512;
/** Measuring window per case. */
const WINDOW_MS = Number(process.env.SGV4_BENCH_WINDOW_MS ?? 1500);

/** One measured case. */
interface Measurement {
  name: string;
  commands: number;
  seconds: number;
  iops: number;
  mbPerSec: number;
}

function measurement(name: string, commands: number, seconds: number, bytes: number): Measurement {
  return { name, commands, seconds, iops: commands / seconds, mbPerSec: (commands * bytes) / seconds / 1e6 };
}

/** sg_read for about WINDOW_MS; parses its "commands per second" and MB/sec lines. */
function sgRead(bpt: number, mmap: boolean): Measurement {
  const bytes = bpt * BLOCK;
  const probe = (commands: number) => {
    // sg_read prints its figures on stderr.
    const run = spawnSync(
      'sg_read',
      [
        `if=${SG}`,
        `bs=${BLOCK}`,
        `bpt=${bpt}`,
        `count=${commands * bpt}`,
        'time=1',
        ...(mmap ? ['mmap=1'] : []),
      ],
      { encoding: 'utf8' },
    );
    const out = `${run.stdout}${run.stderr}`;
    if (run.status !== 0) throw new Error(`sg_read failed (status ${run.status}): ${out}`);
    const secs = /was ([\d.]+) secs/.exec(out);
    if (secs?.[1] === undefined) throw new Error(`sg_read output not understood: ${out}`);
    return Number.parseFloat(secs[1]);
  };
  let commands = 200;
  let seconds = probe(commands);
  while (seconds < WINDOW_MS / 1000 / 2) {
    commands = Math.ceil(commands * Math.min(20, (WINDOW_MS / 1000 / Math.max(seconds, 0.001)) * 1.1));
    seconds = probe(commands);
  }
  return measurement(`sg_read ${bytes / 1024} KiB${mmap ? ' mmap' : ''}`, commands, seconds, bytes);
}

/** Runs `step` back to back for about WINDOW_MS (after a short warm-up); returns commands/seconds. */
async function timeLoop(name: string, bytes: number, step: () => void | Promise<void>): Promise<Measurement> {
  const warmUntil = performance.now() + 200;
  while (performance.now() < warmUntil) await step();
  let commands = 0;
  const start = performance.now();
  const end = start + WINDOW_MS;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 16; i++) await step();
    commands += 16;
    now = performance.now();
  }
  return measurement(name, commands, (now - start) / 1000, bytes);
}

function read10(blocks: number): Uint8Array {
  const cdb = new Uint8Array(10);
  cdb[0] = 0x28;
  new DataView(cdb.buffer).setUint16(7, blocks);
  return cdb;
}

interface PathCase {
  header: Uint8Array;
  cdb: Uint8Array;
  sense: Uint8Array;
  data: Uint8Array | null;
}

function pathCase(blocks: number, mmap: boolean): PathCase {
  const bytes = blocks * BLOCK;
  return {
    header: encodeSgIoV4(
      createSgIoV4Header({
        requestLen: 10,
        dinXferLen: bytes,
        maxResponseLen: 32,
        timeout: 60_000,
        flags: mmap ? SG_FLAG_MMAP_IO : 0,
      }),
    ),
    cdb: read10(blocks),
    sense: new Uint8Array(32),
    data: mmap ? null : new Uint8Array(bytes),
  };
}

async function addonPaths(blocks: number, mmap: boolean): Promise<Measurement[]> {
  const bytes = blocks * BLOCK;
  const label = `${bytes / 1024} KiB${mmap ? ' mmap' : ''}`;
  const sg = openScsiHandle(SG, { readWrite: true });
  const results: Measurement[] = [];
  try {
    if (mmap) {
      // sg_read mmap=1 rounds the reserve up to a page and maps it: the same here.
      sg.setReservedSize(bytes);
      sg.mapReservedBuffer(bytes);
    }
    const c = pathCase(blocks, mmap);
    results.push(
      await timeLoop(`sync SG_IO sg ${label}`, bytes, () =>
        sg.sgIoSyncEncoded(c.header, c.cdb, c.sense, null, c.data),
      ),
    );
    results.push(
      await timeLoop(`promise SG_IO threadpool sg ${label}`, bytes, () =>
        sg.sgIoEncoded(c.header, c.cdb, c.sense, null, c.data),
      ),
    );
    results.push(
      await timeLoop(`promise write/poll/read sg ${label}`, bytes, () =>
        sg.submitEncoded(c.header, c.cdb, c.sense, null, c.data),
      ),
    );
    if (!mmap) {
      const bsg: ScsiHandle = openScsiHandle(BSG, { readWrite: true });
      try {
        results.push(
          await timeLoop(`promise SG_IO threadpool bsg ${label}`, bytes, () =>
            bsg.sgIoEncoded(c.header, c.cdb, c.sense, null, c.data),
          ),
        );
        results.push(
          await timeLoop(`sync SG_IO bsg ${label}`, bytes, () =>
            bsg.sgIoSyncEncoded(c.header, c.cdb, c.sense, null, c.data),
          ),
        );
      } finally {
        bsg.close();
      }
    }
  } finally {
    sg.close();
  }
  return results;
}

async function floors(): Promise<Measurement[]> {
  const fd = openSync('/dev/zero', 'r');
  const one = Buffer.alloc(1);
  try {
    return [
      await timeLoop(
        'floor: await setImmediate (one event-loop turn)',
        0,
        () => new Promise((r) => setImmediate(r)),
      ),
      await timeLoop(
        'floor: threadpool round trip (fs.read 1 byte of /dev/zero)',
        0,
        () =>
          new Promise<void>((resolve, reject) => read(fd, one, 0, 1, 0, (e) => (e ? reject(e) : resolve()))),
      ),
    ];
  } finally {
    closeSync(fd);
  }
}

function best(ms: Measurement[], prefix: string, suffix: string): Measurement {
  const matching = ms.filter((m) => m.name.startsWith(prefix) && m.name.endsWith(suffix));
  const top = matching.sort((a, b) => b.iops - a.iops)[0];
  if (top === undefined) throw new Error(`no measurement ${prefix}...${suffix}`);
  return top;
}

async function main(): Promise<void> {
  const sgRead4k = sgRead(8, false);
  const sgRead4kMmap = sgRead(8, true);
  const sgRead512k = sgRead(1024, false);
  const sgRead512kMmap = sgRead(1024, true);
  const addon = [
    ...(await addonPaths(8, false)),
    ...(await addonPaths(8, true)),
    ...(await addonPaths(1024, false)),
    ...(await addonPaths(1024, true)),
  ];
  const floorMeasurements = await floors();
  const ratioTo = (m: Measurement, peer: Measurement, by: 'iops' | 'mbPerSec') => ({
    path: m.name,
    peer: peer.name,
    ratio: Number((m[by] / peer[by]).toFixed(3)),
  });
  const fastestPromise4k = [best(addon, 'promise', '4 KiB'), best(addon, 'promise', '4 KiB mmap')].sort(
    (a, b) => b.iops - a.iops,
  )[0] as Measurement;
  const fastestPromise512kMmap = best(addon, 'promise', '512 KiB mmap');
  const goals = [
    {
      goal: 'fastest promise path >= 0.9x sg_read IOPS at 4 KiB QD1',
      min: 0.9,
      ...ratioTo(fastestPromise4k, sgRead4k, 'iops'),
    },
    {
      goal: 'promise mmap path >= 0.95x sg_read mmap MB/s at 512 KiB',
      min: 0.95,
      ...ratioTo(fastestPromise512kMmap, sgRead512kMmap, 'mbPerSec'),
    },
  ].map((g) => ({ ...g, met: g.ratio >= g.min }));
  const peerFor = (m: Measurement) =>
    m.name.endsWith('4 KiB')
      ? sgRead4k
      : m.name.endsWith('4 KiB mmap')
        ? sgRead4kMmap
        : m.name.endsWith('512 KiB')
          ? sgRead512k
          : sgRead512kMmap;
  const result = {
    suite: 'native-vs-sg-read',
    kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(),
    // Response delay in jiffies: 0 = scsi_debug answers in the submitting thread (`pnpm bench:lab` sets it).
    scsiDebugDelay: Number.parseInt(readFileSync('/sys/bus/pseudo/drivers/scsi_debug/delay', 'utf8'), 10),
    windowMs: WINDOW_MS,
    sgRead: [sgRead4k, sgRead4kMmap, sgRead512k, sgRead512kMmap],
    addon,
    floors: floorMeasurements,
    ratios: addon.map((m) => ratioTo(m, peerFor(m), m.name.includes('512 KiB') ? 'mbPerSec' : 'iops')),
    goals,
  };
  const json = `${JSON.stringify(result, null, 2)}\n`;
  process.stdout.write(json);
  const share = process.env.SGV4_LAB_RESULTS;
  if (share !== undefined && share !== '') writeFileSync(join(share, 'native-vs-sg-read.json'), json);
}

await main();
