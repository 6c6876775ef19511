/**
 * Lab conformance: the sg transfer plan's direct-vs-indirect prediction
 * against the real sg driver's SG_INFO_DIRECT_IO bit, for randomized
 * (address, length, flags, iovec) cases with a fixed seed; and the
 * segment-count limit through the real bio code. Both toggle allow_dio, so
 * they live in one file and run one after the other.
 */
import { planTransfer, type QueueLimits, type TransferInterface, type UserIovec } from '@sgv4/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildProbe,
  type ProbeResult,
  readQueueLimits,
  runProbe,
  scsiDebugSgNode,
  seededRandom,
  setAllowDio,
} from './transfer-lab-helpers.js';

const SG_FLAG_DIRECT_IO = 1;
const SG_INFO_DIRECT_IO = 2;
/** Any page-aligned base: the arena is mmap-ed, so only the offset's low bits matter. */
const ARENA_BASE = 0x7f00_0000_0000;

interface DioCase {
  readonly offset: number;
  readonly length: number;
  readonly flags: number;
  readonly niov: number;
}

function pick<T>(random: () => number, choices: readonly T[]): T {
  return choices[Math.floor(random() * choices.length)]!;
}

/** Offsets and lengths biased towards the alignments that matter (4, 512, 4096) and their neighbours. */
function randomCases(seed: number, count: number): DioCase[] {
  const random = seededRandom(seed);
  const cases: DioCase[] = [];
  for (let i = 0; i < count; i++) {
    const offset = pick(random, [
      () => Math.floor(random() * 8192),
      () => 4 * Math.floor(random() * 2048),
      () => 512 * Math.floor(random() * 16),
      () => 4096 * Math.floor(random() * 4) + pick(random, [0, 1, 2, 3, 4]),
    ])();
    const length = pick(random, [
      () => 1 + Math.floor(random() * 131072),
      () => 4 * (1 + Math.floor(random() * 32768)),
      () => 512 * (1 + Math.floor(random() * 256)),
      () => 4096 * (1 + Math.floor(random() * 32)) + pick(random, [-2, -1, 0, 1, 2, 3]),
    ])();
    const flags = random() < 0.9 ? SG_FLAG_DIRECT_IO : 0;
    const niov = random() < 0.15 ? 2 + Math.floor(random() * 3) : 0;
    cases.push({ offset, length: Math.max(length, niov, 1), flags, niov });
  }
  return cases;
}

/** The iovecs the probe builds for a case (same split rule as sg-transfer-probe.c). */
function caseIovecs(c: DioCase): UserIovec[] {
  if (c.niov === 0) return [{ address: ARENA_BASE + c.offset, length: c.length }];
  const piece = Math.floor(c.length / c.niov);
  const out: UserIovec[] = [];
  let done = 0;
  for (let i = 0; i < c.niov; i++) {
    const length = i === c.niov - 1 ? c.length - done : piece;
    out.push({ address: ARENA_BASE + c.offset + done, length });
    done += length;
  }
  return out;
}

function predict(limits: QueueLimits, c: DioCase, allowDio: boolean) {
  return planTransfer({
    limits,
    iface: 'sg',
    direction: 'from-device',
    iovecs: caseIovecs(c),
    vector: c.niov > 0,
    sg: { allowDio, directIo: (c.flags & SG_FLAG_DIRECT_IO) !== 0 },
  });
}

function runBatch(binary: string, device: string, cases: readonly DioCase[]): ProbeResult[] {
  const script = ['open 0', ...cases.map((c) => `sgio 0 ${c.offset} ${c.length} ${c.flags} ${c.niov}`)];
  return runProbe(binary, device, script).slice(1);
}

describe('sg direct IO: model vs SG_INFO_DIRECT_IO (real sg driver)', () => {
  let binary: string;
  let node: { device: string; queueDir: string };
  let limits: QueueLimits;

  beforeAll(() => {
    binary = buildProbe();
    node = scsiDebugSgNode();
    limits = readQueueLimits(node.queueDir);
  });

  it('agrees on >= 200 randomized cases with allow_dio=1, and with allow_dio=0', () => {
    const withDio = randomCases(20261122, 240);
    const withoutDio = randomCases(7, 30);
    expect(setAllowDio(true)).toBe(true);
    const dioResults = runBatch(binary, node.device, withDio);
    expect(setAllowDio(false)).toBe(false);
    const plainResults = runBatch(binary, node.device, withoutDio);

    const rows: { c: DioCase; allowDio: boolean; actual: ProbeResult }[] = [
      ...withDio.map((c, i) => ({ c, allowDio: true, actual: dioResults[i]! })),
      ...withoutDio.map((c, i) => ({ c, allowDio: false, actual: plainResults[i]! })),
    ];
    let agree = 0;
    let directSeen = 0;
    const disagreements: string[] = [];
    for (const { c, allowDio, actual } of rows) {
      const plan = predict(limits, c, allowDio);
      const predictedErrno = plan.outcome === 'refused' ? plan.refusal?.errno : null;
      const predictedDirect = plan.sgDirectIo === true;
      const actualDirect = actual.ret === 0 && ((actual.info ?? 0) & SG_INFO_DIRECT_IO) !== 0;
      if (actualDirect) directSeen++;
      if (predictedDirect === actualDirect && (predictedErrno ?? null) === actual.errno) agree++;
      else {
        disagreements.push(
          `allow_dio=${allowDio ? 1 : 0} off=${c.offset} len=${c.length} flags=${c.flags} niov=${c.niov}: ` +
            `model direct=${predictedDirect} errno=${predictedErrno} (${plan.sgDirectIoReason}); ` +
            `kernel info=${actual.info} errno=${actual.errno}`,
        );
      }
    }
    console.log(
      `sg direct-IO agreement: ${agree}/${rows.length} (allow_dio=1: ${withDio.length} cases, ` +
        `${directSeen} direct in the kernel)`,
    );
    expect(disagreements).toEqual([]);
    expect(agree).toBeGreaterThanOrEqual(200);
    expect(directSeen).toBeGreaterThan(20);
  });

  it('reads the limits the model expects for scsi_debug', () => {
    expect(limits.dmaAlignment).toBe(3);
    expect(limits.maxSegments).toBe(2048);
  });
});

const MIB8 = 8 << 20;

interface LimitCase {
  readonly iface: TransferInterface;
  readonly offset: number;
  readonly length: number;
  readonly dio: boolean;
}

const CASES: readonly LimitCase[] = [];
for (const iface of ['sg', 'block', 'bsg'] as const) {
  for (const dio of iface === 'sg' ? [true, false] : [false]) {
    for (const [offset, length] of [
      [0, MIB8],
      [0, MIB8 + 4096],
      [4, MIB8],
      [2, MIB8],
      [4, MIB8 - 4096],
      [0, MIB8 - 512],
    ] as const) {
      (CASES as LimitCase[]).push({ iface, offset, length, dio });
    }
  }
}

describe('max_segments through the real bio code (scsi_debug, ~8 MiB requests)', () => {
  let binary: string;
  let node: { device: string; queueDir: string; disk: string; bsg: string | undefined };
  let limits: QueueLimits;

  beforeAll(() => {
    binary = buildProbe();
    node = scsiDebugSgNode();
    limits = readQueueLimits(node.queueDir);
  });

  it('predicts success or EINVAL for sg (direct, indirect) block SG_IO and bsg (zero-copy, bounce)', () => {
    expect(setAllowDio(true)).toBe(true);
    let agree = 0;
    const disagreements: string[] = [];
    try {
      for (const c of CASES) {
        const device = c.iface === 'sg' ? node.device : c.iface === 'block' ? node.disk : node.bsg;
        if (device === undefined) throw new Error('the scsi_debug disk has no bsg node');
        const op =
          c.iface === 'bsg'
            ? `bsgio 0 ${c.offset} ${c.length}`
            : `sgio 0 ${c.offset} ${c.length} ${c.dio ? 1 : 0} 0`;
        const [, result] = runProbe(binary, device, ['open 0', op]);
        const plan = planTransfer({
          limits,
          iface: c.iface,
          direction: 'from-device',
          iovecs: [{ address: ARENA_BASE + c.offset, length: c.length }],
          sg: { allowDio: true, directIo: c.dio },
        });
        const predicted = plan.outcome === 'refused' ? (plan.refusal?.errno ?? null) : null;
        const predictedDirect = plan.sgDirectIo === true;
        const actualDirect = result!.ret === 0 && ((result!.info ?? 0) & 2) !== 0;
        const same = predicted === result!.errno && (c.iface !== 'sg' || predictedDirect === actualDirect);
        if (same) agree++;
        else {
          disagreements.push(
            `${c.iface} dio=${c.dio} off=${c.offset} len=${c.length}: model ${predicted} (${plan.mode}, ` +
              `${plan.nrPhysSegments} segs) kernel ${result!.errno} info=${result!.info}`,
          );
        }
      }
    } finally {
      setAllowDio(false);
    }
    console.log(
      `segment-limit agreement: ${agree}/${CASES.length} (sg direct/indirect, block and bsg zero-copy/bounce)`,
    );
    expect(disagreements).toEqual([]);
  });
});
