/**
 * The SCSI ring (issue 11) against fio's sg engine, sg3_utils' `sg_read` and this
 * project's plain promise path, in ONE lab boot (`pnpm bench:lab:ring`), under both
 * scsi_debug profiles set at run time: `delay=0` (pure overhead) and `ndelay=100000`
 * (100 us, SSD-like: queue depth matters). 4 KiB random reads at QD 1, 16 and 64.
 *
 * Method: every comparison is a duel (measure.ts): path and peer alternate in short rounds
 * (ABBA) and the ratio is the median of the per-round ratios. The ring's shared counters
 * give system calls, consumer wake-ups and JS wake-ups per command.
 *
 * Goals (issue 11): ring on sg QD16 >= 1.0x fio sg iodepth=16 in both profiles; ring on
 * bsg QD16 >= 0.8x fio sg iodepth=16; QD64 >= QD16 throughput; QD1 latency within 1.2x
 * of the plain promise path (ratio = promise latency / ring latency >= 1/1.2).
 *
 * Output: JSON on stdout, also `$SGV4_BENCH_RESULTS` or `$SGV4_LAB_RESULTS`/ring-vs-peers.json.
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createSgIoV4Header } from '@sgv4/core';
import { allocateBuffer, openRing, openScsiHandle, type RingStats, type ScsiRing } from '@sgv4/native';
import {
  type Contender,
  type Duel,
  duel,
  duelGoal,
  labResultHeader,
  timeDepth,
  timeLoop,
} from './measure.js';
import { fioSg, sgRead } from './peers.js';

const SG = process.env.SGV4_BENCH_SG ?? '/dev/sg0';
const BSG = process.env.SGV4_BENCH_BSG ?? '/dev/bsg/0:0:0:0';
const SCSI_DEBUG = '/sys/bus/pseudo/drivers/scsi_debug';
const BLOCK = 512;
const BYTES = 4096;
/** As fio --size=32m: the first 32 MiB. */
const SPAN_SLOTS = (32 * 1024 * 1024) / BYTES;

interface Profile {
  name: string;
  delay: number;
  ndelay: number;
}

/** scsi_debug 6.1: writing delay zeroes ndelay; a non-zero ndelay overrides delay (delay_store, ndelay_store). */
function applyProfile(profile: Profile): void {
  writeFileSync(`${SCSI_DEBUG}/delay`, `${profile.delay}\n`);
  if (profile.ndelay > 0) writeFileSync(`${SCSI_DEBUG}/ndelay`, `${profile.ndelay}\n`);
  const ndelay = Number.parseInt(readFileSync(`${SCSI_DEBUG}/ndelay`, 'utf8'), 10);
  if (ndelay !== profile.ndelay) throw new Error(`scsi_debug ndelay did not take ${profile.ndelay}`);
}

/** A fixed pseudo-random LBA sequence (4 KiB aligned). */
function lbaSource(): () => number {
  let state = 0x2545f491;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) % SPAN_SLOTS) * (BYTES / BLOCK);
  };
}

function read10(lba: number): Uint8Array {
  const cdb = new Uint8Array(10);
  cdb[0] = 0x28;
  new DataView(cdb.buffer).setUint32(2, lba);
  cdb[8] = BYTES / BLOCK;
  return cdb;
}

type Counters = Record<keyof RingStats, number>;

/** Per command, from the ring's counters over the windows a contender ran. */
export interface RingPerCommand {
  /** write + writev + readv + poll (sg consumer) or SG_IO (bsg), per command. */
  syscalls: number;
  /** Doorbells that woke a sleeping consumer, per command. */
  doorbells: number;
  /** Consumer wake-ups (poll returns / condition-variable wakes), per command. */
  consumerWakeups: number;
  /** JS completion callbacks woken by the consumer (uv_async), per command (one per batch). */
  jsWakeups: number;
  /** Replies reaped by the JS thread's own loop (its uv_poll on the sg fds fired), per command. */
  loopReaps: number;
  /** Commands per consumer batch. */
  commandsPerBatch: number;
}

/** The ring at queue depth `depth`: `depth` lanes, each awaiting its own submit on its own buffer. */
function ringPath(
  ring: ScsiRing,
  depth: number,
  label: string,
  variant = '',
): Contender & { ringCounters(): RingPerCommand } {
  const sum: Partial<Counters> = {};
  const next = lbaSource();
  const add = (a: RingStats, b: RingStats) => {
    for (const k of Object.keys(a) as (keyof RingStats)[]) sum[k] = (sum[k] ?? 0) + (b[k] - a[k]);
  };
  return {
    name: `ring ${ring.kind}${variant} 4 KiB randread QD${depth} ${label}`,
    bytes: BYTES,
    async run(windowMs) {
      const before = ring.stats();
      // One request per lane, its CDB's LBA rewritten in place (the ring copies the CDB at submit),
      // as the promise path reuses its prepared command; QD1 runs in the promise path's own loop
      // (timeLoop), so both pay the same harness.
      const requests = Array.from({ length: depth }, (_, lane) => ({
        cdb: read10(0),
        dataIn: { buffer: lane, length: BYTES },
      }));
      const lbas = requests.map((q) => new DataView(q.cdb.buffer));
      const step = (lane: number) => {
        (lbas[lane] as DataView).setUint32(2, next());
        return ring.submit(requests[lane] as (typeof requests)[number]);
      };
      const r =
        depth === 1
          ? await timeLoop(windowMs, () => step(0) as Promise<unknown> as Promise<void>)
          : await timeDepth(windowMs, depth, step);
      add(before, ring.stats());
      return r;
    },
    ringCounters(): RingPerCommand {
      const done = Math.max(1, sum.completed ?? 0);
      const per = (v: number | undefined) => Number(((v ?? 0) / done).toFixed(3));
      return {
        syscalls: per(
          (sum.writeCalls ?? 0) +
            (sum.writevCalls ?? 0) +
            (sum.readvCalls ?? 0) +
            (sum.pollCalls ?? 0) +
            (sum.ioctlCalls ?? 0),
        ),
        doorbells: per(sum.doorbells),
        consumerWakeups: per(sum.consumerWakeups),
        jsWakeups: per(sum.jsWakeups),
        loopReaps: per(sum.loopReaps),
        commandsPerBatch: Number((done / Math.max(1, sum.batches ?? 0)).toFixed(2)),
      };
    },
  };
}

/** The plain promise path at QD1: a prepared READ(10) into allocateBuffer memory (sg write/read queue). */
function promisePath(label: string) {
  const handle = openScsiHandle(SG, { readWrite: true });
  const cdb = allocateBuffer(10);
  cdb.set(read10(0));
  const command = handle.prepare({
    header: createSgIoV4Header({ requestLen: 10, dinXferLen: BYTES, maxResponseLen: 32, timeout: 60_000 }),
    cdb,
    sense: new Uint8Array(32),
    dataIn: allocateBuffer(BYTES),
  });
  const next = lbaSource();
  const contender: Contender = {
    name: `promise sg 4 KiB randread QD1 prepared allocateBuffer ${label}`,
    bytes: BYTES,
    run: (windowMs) =>
      timeLoop(windowMs, () => {
        new DataView(cdb.buffer, cdb.byteOffset).setUint32(2, next());
        return command.run();
      }),
  };
  return {
    contender,
    close: async () => {
      command.release();
      await handle.close();
    },
  };
}

interface ProfileResult {
  profile: Profile;
  duels: (Duel & { ringPerCommand?: RingPerCommand })[];
}

async function runProfile(profile: Profile): Promise<ProfileResult> {
  applyProfile(profile);
  const label = profile.name;
  const sgRing = openRing(SG, { queueDepth: 64, entries: 128, bufferCount: 64, bufferSize: BYTES });
  const bsgRing = openRing(BSG, { queueDepth: 64, entries: 128, bufferCount: 64, bufferSize: BYTES });
  // timing: false = durations from the kernel (ms), no clock read in the consumer: what the
  // plain promise path reports too. In this guest a clock read is an HPET system call.
  const sgUntimed = openRing(SG, {
    queueDepth: 64,
    entries: 128,
    bufferCount: 64,
    bufferSize: BYTES,
    timing: false,
  });
  const bsgUntimed = openRing(BSG, {
    queueDepth: 64,
    entries: 128,
    bufferCount: 64,
    bufferSize: BYTES,
    timing: false,
  });
  // The consumer thread reaps everything (the design before loop reaping), for comparison.
  const threadRing = openRing(SG, {
    queueDepth: 64,
    entries: 128,
    bufferCount: 64,
    bufferSize: BYTES,
    loopReapDepth: 0,
  });
  const spinRing = openRing(SG, {
    queueDepth: 1,
    entries: 4,
    bufferCount: 1,
    bufferSize: BYTES,
    spinMicros: 50,
    loopReapDepth: 0,
  });
  const promise = promisePath(label);
  const duels: ProfileResult['duels'] = [];
  const fight = async (path: Contender & { ringCounters?(): RingPerCommand }, peer: Contender) => {
    const d = await duel(path, peer, 'iops');
    duels.push(path.ringCounters ? { ...d, ringPerCommand: path.ringCounters() } : d);
    process.stderr.write(`${label}: ${path.name} / ${peer.name} = ${d.ratio}\n`);
  };
  try {
    for (const depth of [1, 16, 64]) {
      // sg takes 16 commands per fd (SG_MAX_QUEUE: fio's iodepth=64 fails with EDOM), so fio's QD64
      // is 4 jobs (4 fds) of iodepth=16, as the ring's is 4 fds of 16.
      const fio = depth <= 16 ? fioSg(SG, BYTES, depth) : fioSg(SG, BYTES, 16, depth / 16);
      await fight(ringPath(sgRing, depth, label), fio);
      await fight(ringPath(bsgRing, depth, label), fio);
    }
    await fight(ringPath(sgRing, 1, label), promise.contender);
    await fight(ringPath(sgUntimed, 1, label, ' (timing off)'), promise.contender);
    await fight(ringPath(threadRing, 1, label, ' (loopReapDepth 0)'), promise.contender);
    await fight(ringPath(spinRing, 1, label, ' (loopReapDepth 0, spinMicros 50)'), promise.contender);
    await fight(ringPath(bsgRing, 1, label), promise.contender);
    await fight(ringPath(sgUntimed, 16, label, ' (timing off)'), fioSg(SG, BYTES, 16));
    await fight(ringPath(bsgUntimed, 16, label, ' (timing off)'), fioSg(SG, BYTES, 16));
    await fight(ringPath(threadRing, 16, label, ' (loopReapDepth 0)'), fioSg(SG, BYTES, 16));
    await fight(ringPath(sgRing, 1, label), sgRead(SG, 8, false));
    await fight(ringPath(sgRing, 64, label), ringPath(sgRing, 16, label));
    await fight(ringPath(bsgRing, 64, label), ringPath(bsgRing, 16, label));
  } finally {
    await Promise.all(
      [sgRing, bsgRing, sgUntimed, bsgUntimed, threadRing, spinRing]
        .map((r) => r.close())
        .concat(promise.close()),
    );
  }
  return { profile, duels };
}

function find(result: ProfileResult, path: string, peer: string): Duel {
  const d = result.duels.find(
    (x) =>
      x.path.name.startsWith(path) &&
      x.peer.name.startsWith(peer) &&
      (peer.includes('numjobs') || !x.peer.name.includes('numjobs')),
  );
  if (d === undefined) throw new Error(`no duel '${path}' vs '${peer}' in ${result.profile.name}`);
  return d;
}

async function main(): Promise<void> {
  const load = loadavg();
  const results: ProfileResult[] = [];
  for (const profile of [
    { name: 'delay=0', delay: 0, ndelay: 0 },
    { name: 'ndelay=100us', delay: 0, ndelay: 100_000 },
  ]) {
    results.push(await runProfile(profile));
  }
  applyProfile({ name: 'delay=0', delay: 0, ndelay: 0 });

  const goals = results.flatMap((r) => {
    const p = r.profile.name;
    return [
      duelGoal(
        `${p}: ring on sg QD16 >= 1.0x fio sg iodepth=16`,
        1.0,
        find(r, 'ring sg 4 KiB randread QD16', 'fio sg 4 KiB randread iodepth=16'),
      ),
      duelGoal(
        `${p}: ring on bsg QD16 >= 0.8x fio sg iodepth=16`,
        0.8,
        find(r, 'ring bsg 4 KiB randread QD16', 'fio sg 4 KiB randread iodepth=16'),
      ),
      duelGoal(
        `${p}: ring on sg QD64 >= QD16 throughput`,
        1.0,
        find(r, 'ring sg 4 KiB randread QD64', 'ring sg 4 KiB randread QD16'),
      ),
      duelGoal(
        `${p}: ring on bsg QD64 >= QD16 throughput`,
        1.0,
        find(r, 'ring bsg 4 KiB randread QD64', 'ring bsg 4 KiB randread QD16'),
      ),
      // Latency at QD1 is 1 / IOPS: ring latency <= 1.2x promise latency <=> IOPS ratio >= 1/1.2.
      duelGoal(
        `${p}: ring on sg QD1 latency within 1.2x of the plain promise path (IOPS ratio >= 0.833)`,
        Number((1 / 1.2).toFixed(3)),
        find(r, 'ring sg 4 KiB randread QD1', 'promise sg 4 KiB randread QD1'),
      ),
      // The same goals with the ring's per-batch clock reads off (durations from the kernel, as
      // the promise path reports them): the ring's own cost without the guest's HPET reads.
      duelGoal(
        `${p}: ring on sg (timing off) QD1 latency within 1.2x of the plain promise path (IOPS ratio >= 0.833)`,
        Number((1 / 1.2).toFixed(3)),
        find(r, 'ring sg (timing off) 4 KiB randread QD1', 'promise sg 4 KiB randread QD1'),
      ),
      duelGoal(
        `${p}: ring on sg (timing off) QD16 >= 1.0x fio sg iodepth=16`,
        1.0,
        find(r, 'ring sg (timing off) 4 KiB randread QD16', 'fio sg 4 KiB randread iodepth=16'),
      ),
      duelGoal(
        `${p}: ring on bsg (timing off) QD16 >= 0.8x fio sg iodepth=16`,
        0.8,
        find(r, 'ring bsg (timing off) 4 KiB randread QD16', 'fio sg 4 KiB randread iodepth=16'),
      ),
    ];
  });
  const ratios = results.flatMap(({ duels }) =>
    duels.map((d) => ({
      path: d.path.name,
      peer: d.peer.name,
      ratio: d.ratio,
      metric: 'IOPS',
      kind:
        d.peer.name.startsWith('ring') || d.peer.name.startsWith('promise')
          ? ('floor' as const)
          : ('peer' as const),
    })),
  );
  const latencyUs = (m: { commands: number; seconds: number }) =>
    Number(((m.seconds / m.commands) * 1e6).toFixed(1));
  const result = {
    ...labResultHeader(
      'ring-vs-peers',
      'The SCSI ring (shared-memory SQ/CQ, sg consumer: writev/readv on a pool of fds; bsg consumer: N blocking SG_IO ' +
        "threads) at QD 1/16/64 against fio's sg engine at the same iodepths, sg_read and the plain promise path, " +
        '4 KiB random reads, scsi_debug delay=0 and ndelay=100000 in one boot',
      load,
    ),
    profiles: results.map(({ profile, duels }) => ({
      name: profile.name,
      scsiDebug: { delay: profile.delay, ndelay: profile.ndelay },
      duels: duels.map((d) => ({
        ...d,
        pathLatencyUs: latencyUs(d.path),
        peerLatencyUs: latencyUs(d.peer),
      })),
    })),
    ratios,
    goals,
  };
  const json = `${JSON.stringify(result, null, 2)}\n`;
  process.stdout.write(json);
  const dir = process.env.SGV4_BENCH_RESULTS || process.env.SGV4_LAB_RESULTS;
  if (dir !== undefined && dir !== '') writeFileSync(join(dir, 'ring-vs-peers.json'), json);
}

await main();
