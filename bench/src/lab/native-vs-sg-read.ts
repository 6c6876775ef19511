/**
 * The @sgv4/native paths against sg3_utils' `sg_read` and fio's sg engine, in ONE lab boot
 * (run as root inside the guest: `pnpm bench:lab`), under two scsi_debug profiles set at
 * run time: `delay=0` (the device answers inside the submitting call: pure overhead) and
 * `ndelay=100000` (100 us, SSD-like, where queue depth matters).
 *
 * Method: each path duels with its peer (the same transfer, the same profile) in short
 * alternating rounds (ABBA), so the drift of a shared, emulated machine hits both alike;
 * the result is the median of the rounds' ratios, with the ratio of totals alongside.
 * sg_read (QD1) and fio's sg engine at iodepth 1 and 16 are the peers in both profiles.
 *
 * Goals (issue 10): ndelay=100us QD16 promise >= 1.0x fio sg iodepth=16; delay=0 4 KiB
 * promise QD1 >= 0.5x sg_read and sync >= 0.8x sg_read; 512 KiB through the mmap-ed reserve
 * (promise) >= 0.95x sg_read mmap MB/s. The addon's own counters give system calls,
 * event-loop wake-ups, the drain hit rate and bounced bytes per command; one strace run
 * cross-checks the system calls of the QD1 promise path.
 *
 * Output: JSON on stdout, also written to `$SGV4_LAB_RESULTS/native-vs-sg-read.json` when
 * that writable share is set (bench/results/ on the host).
 * @module
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, read, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { AddonPaths } from './addon-paths.js';
import {
  type Contender,
  type Duel,
  duel,
  duelGoal,
  labResultHeader,
  measurement,
  timeLoop,
  WINDOW_MS,
} from './measure.js';
import { fioSg, sgRead } from './peers.js';

const SG = process.env.SGV4_BENCH_SG ?? '/dev/sg0';
const BSG = process.env.SGV4_BENCH_BSG ?? '/dev/bsg/0:0:0:0';
const SCSI_DEBUG = '/sys/bus/pseudo/drivers/scsi_debug';

interface Profile {
  name: string;
  delay: number;
  ndelay: number;
}

function scsiDebug(name: string): number {
  return Number.parseInt(readFileSync(`${SCSI_DEBUG}/${name}`, 'utf8'), 10);
}

/** scsi_debug 6.1: writing delay zeroes ndelay; a non-zero ndelay overrides delay (delay_store, ndelay_store). */
function applyProfile(profile: Profile): void {
  writeFileSync(`${SCSI_DEBUG}/delay`, `${profile.delay}\n`);
  if (profile.ndelay > 0) writeFileSync(`${SCSI_DEBUG}/ndelay`, `${profile.ndelay}\n`);
  if (scsiDebug('ndelay') !== profile.ndelay)
    throw new Error(`scsi_debug ndelay did not take ${profile.ndelay}`);
}

/** The duels of one profile: which path against which peer. */
function plan(paths: AddonPaths, profile: Profile): [Contender, Contender, 'iops' | 'mbPerSec'][] {
  const sgRead4k = sgRead(SG, 8, false);
  const fio16 = fioSg(SG, 4096, 16);
  const duels: [Contender, Contender, 'iops' | 'mbPerSec'][] = [
    [paths.oneOff('sg', true), sgRead4k, 'iops'],
    [paths.prepared('sg', 'allocateBuffer', true), sgRead4k, 'iops'],
    [paths.oneOff('sg', false), sgRead4k, 'iops'],
    [paths.prepared('sg', 'allocateBuffer', false), sgRead4k, 'iops'],
    [paths.prepared('sg', 'plain', false), sgRead4k, 'iops'],
    [paths.oneOff('bsg', true), sgRead4k, 'iops'],
    [paths.prepared('bsg', 'allocateBuffer', false), sgRead4k, 'iops'],
    [paths.queueDepth16(), fio16, 'iops'],
  ];
  if (profile.ndelay === 0) {
    const sgRead512kMmap = sgRead(SG, 1024, true);
    duels.push(
      [paths.mmap(false), sgRead512kMmap, 'mbPerSec'],
      [paths.mmap(true), sgRead512kMmap, 'mbPerSec'],
    );
  }
  duels.push([paths.prepared('sg', 'allocateBuffer', false), fioSg(SG, 4096, 1), 'iops']);
  return duels;
}

async function floors(): Promise<ReturnType<typeof measurement>[]> {
  const fd = openSync('/dev/zero', 'r');
  const one = Buffer.alloc(1);
  const floor = async (name: string, step: () => Promise<unknown>) => {
    const r = await timeLoop(WINDOW_MS * 2, step as () => Promise<void>);
    return measurement(name, r.commands, r.seconds, 0);
  };
  try {
    return [
      await floor('await setImmediate (one event-loop turn)', () => new Promise((r) => setImmediate(r))),
      await floor('await Promise.resolve() (one microtask)', () => Promise.resolve()),
      await floor(
        'libuv threadpool round trip (fs.read 1 byte of /dev/zero)',
        () =>
          new Promise<void>((resolve, reject) => read(fd, one, 0, 1, 0, (e) => (e ? reject(e) : resolve()))),
      ),
    ];
  } finally {
    closeSync(fd);
  }
}

/**
 * strace -c -f of a child running the QD1 promise path (prepared, allocateBuffer) for 2000
 * commands at delay=0: system calls per command as the kernel saw them.
 */
function straceCheck(): Record<string, number> | { error: string } {
  const commands = 2000;
  const script = `
    import { allocateBuffer, openScsiHandle } from '@sgv4/native';
    import { createSgIoV4Header } from '@sgv4/core';
    const h = openScsiHandle(${JSON.stringify(SG)}, { readWrite: true });
    const cdb = Uint8Array.of(0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0);
    const c = h.prepare({ header: createSgIoV4Header({ requestLen: 10, dinXferLen: 4096, maxResponseLen: 32 }), cdb, sense: new Uint8Array(32), dataIn: allocateBuffer(4096) });
    for (let i = 0; i < ${commands}; i++) await c.run();
    await h.close();`;
  const run = spawnSync(
    'strace',
    [
      '-c',
      '-f',
      '-e',
      'trace=write,writev,read,readv,poll,ppoll,ioctl,epoll_wait,epoll_pwait',
      process.execPath,
      '--input-type=module',
      '-e',
      script,
    ],
    { encoding: 'utf8', cwd: join(import.meta.dirname, '..', '..') },
  );
  if (run.status !== 0) return { error: `strace run failed (${run.status}): ${run.stderr.slice(-400)}` };
  const perCommand: Record<string, number> = {};
  for (const line of run.stderr.split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined)
      perCommand[m[2]] = Number((Number(m[1]) / commands).toFixed(3));
  }
  return perCommand;
}

function find(duels: Duel[], pathPrefix: string, peer: string): Duel {
  const d = duels.find((x) => x.path.name.startsWith(pathPrefix) && x.peer.name === peer);
  if (d === undefined) throw new Error(`no duel '${pathPrefix}' vs '${peer}'`);
  return d;
}

/** The best of several duels against the same peer. */
function best(duels: Duel[], filter: (name: string) => boolean, peer: string): Duel {
  const top = duels
    .filter((d) => filter(d.path.name) && d.peer.name === peer)
    .sort((a, b) => b.ratio - a.ratio)[0];
  if (top === undefined) throw new Error(`no duel against '${peer}'`);
  return top;
}

async function main(): Promise<void> {
  const load = loadavg();
  const results: { profile: Profile; duels: Duel[] }[] = [];
  for (const profile of [
    { name: 'delay=0', delay: 0, ndelay: 0 },
    { name: 'ndelay=100us', delay: 0, ndelay: 100_000 },
  ]) {
    applyProfile(profile);
    const paths = new AddonPaths(SG, BSG, profile.name);
    const duels: Duel[] = [];
    try {
      for (const [path, peer, by] of plan(paths, profile)) duels.push(await duel(path, peer, by));
    } finally {
      await paths.close();
    }
    results.push({ profile, duels });
  }
  applyProfile({ name: 'delay=0', delay: 0, ndelay: 0 });
  const floorMeasurements = await floors();
  const strace = straceCheck();

  const [fast, ssd] = results as [(typeof results)[number], (typeof results)[number]];
  const goals = [
    duelGoal(
      'ndelay=100us: promise API, 4 KiB random reads at QD16 >= 1.0x fio sg iodepth=16',
      1.0,
      find(ssd.duels, 'promise sg 4 KiB randread QD16', 'fio sg 4 KiB randread iodepth=16'),
    ),
    duelGoal(
      'delay=0: promise API, 4 KiB QD1 >= 0.5x sg_read',
      0.5,
      best(fast.duels, (n) => n.startsWith('promise sg 4 KiB') && !n.includes('QD16'), 'sg_read 4 KiB QD1'),
    ),
    duelGoal(
      'delay=0: synchronous 4 KiB >= 0.8x sg_read',
      0.8,
      best(fast.duels, (n) => n.startsWith('sync sg 4 KiB'), 'sg_read 4 KiB QD1'),
    ),
    duelGoal(
      'delay=0: promise API, 512 KiB through the mmap-ed reserve >= 0.95x sg_read mmap MB/s',
      0.95,
      find(fast.duels, 'promise sg 512 KiB mmap', 'sg_read 512 KiB mmap QD1'),
    ),
  ];
  // The flat list `pnpm bench:report` reads (ScriptSuiteRatio): every duel, and the floors.
  const ratios = results.flatMap(({ duels }) =>
    duels.map((d) => ({
      path: d.path.name,
      peer: d.peer.name,
      ratio: d.ratio,
      metric: d.by === 'iops' ? 'IOPS' : 'MB/s',
      kind: 'peer' as const,
    })),
  );
  const result = {
    ...labResultHeader(
      'native-vs-sg-read',
      "@sgv4/native's paths (sync and promise, one-off and prepared, plain and allocateBuffer memory, QD1 and QD16; " +
        "sg's write/read queue, bsg SG_IO on addon threads, the mmap-ed reserve) against sg3_utils' sg_read and fio's " +
        'sg engine, under scsi_debug delay=0 and ndelay=100000 in one boot',
      load,
    ),
    profiles: results.map(({ profile, duels }) => ({
      name: profile.name,
      scsiDebug: { delay: profile.delay, ndelay: profile.ndelay },
      duels,
    })),
    floors: floorMeasurements,
    straceQd1PromiseDelay0PerCommand: strace,
    ratios,
    goals,
  };
  const json = `${JSON.stringify(result, null, 2)}\n`;
  process.stdout.write(json);
  const share = process.env.SGV4_LAB_RESULTS;
  if (share !== undefined && share !== '') writeFileSync(join(share, 'native-vs-sg-read.json'), json);
}

await main();
