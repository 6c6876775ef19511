/**
 * The SgV3 facade against the real sg driver (Linux 6.1 in the lab guest), model-based: the
 * same random call sequences (fast-check, seeded) run on SgV3File — its commands executed for
 * real on the same scsi_debug disk through the kernel (the bsg node, via @sgv4/native) — and,
 * through the C probe, on /dev/sg directly; every call's errno, poll mask, ioctl value, request
 * table and reply must agree step by step, on both ABIs, with `kernelExact`.
 *
 * Without kernelExact the facade departs from the kernel in exactly two documented ways
 * (SG_FLAG_MMAP_IO before mmap() is an InvalidFieldError on `flags`; SG_DXFER_TO_FROM_DEV
 * through a kernel buffer runs as sg documents it instead of failing with ENOMEM or EINVAL): the same
 * sequences are replayed in that mode and every difference must be one of the two.
 */
import { InvalidFieldError, OsError, type SgEnvironment } from '@sgv4/core';
import { getScsiDebugParam, labDeviceNodes, setScsiDebugParam } from '@sgv4/lab';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddressSpace,
  responseFromSgV3Result,
  SG_DXFER_TO_FROM_DEV,
  SG_FLAG_MMAP_IO,
  SG_GET_COMMAND_Q,
  SG_GET_KEEP_ORPHAN,
  SG_GET_NUM_WAITING,
  SG_GET_PACK_ID,
  SG_GET_REQUEST_TABLE,
  SG_GET_RESERVED_SIZE,
  SG_GET_SG_TABLESIZE,
  SG_GET_TIMEOUT,
  SG_GET_VERSION_NUM,
  SG_IO,
  SG_NEXT_CMD_LEN,
  SG_SET_COMMAND_Q,
  SG_SET_FORCE_PACK_ID,
  SG_SET_KEEP_ORPHAN,
  SG_SET_RESERVED_SIZE,
  SG_SET_TIMEOUT,
  type SgAbi,
  type SgIntGetIoctl,
  type SgIntSetIoctl,
  SgV3File,
} from '../../src/index.js';
import { NativeExecutor } from '../lab-helpers/native-executor.js';
import {
  kernelOutcome,
  labEnvironment,
  probeLines,
  replyOf,
  runOnModel,
  type SgGetName,
  type SgOp,
  type SgOutcome,
  type SgSetName,
  sequenceArb,
} from '../lab-helpers/sg-sequences.js';
import { buildProbe, type ProbeLine, probeHeader, runProbeAsync } from '../lab-helpers/sg-v3-probe.js';

const nodes = labDeviceNodes();
const sg = nodes.sg[0]!;
const bsg = nodes.bsg[0]!;
const env: SgEnvironment = labEnvironment(nodes.block[0]!);

/**
 * Random sequences per ABI, each run with kernelExact: 2 x 40 = 80 in CI, to keep the lab
 * tier within CI's time budget (about 1 s per sequence pair under TCG). The seed is fixed, so a
 * larger count replays these first and adds more; 260 per ABI (520 sequences, 5,902 calls per
 * ABI) all agreed when sg3-compat was accepted.
 */
const SEQUENCES_PER_ABI = 40;
/**
 * The first of them run again in the default mode, whose two documented departures show up
 * within a few dozen sequences.
 */
const DEFAULT_MODE_SEQUENCES_PER_ABI = 15;

const GET: Readonly<Record<SgGetName, SgIntGetIoctl>> = {
  NUM_WAITING: SG_GET_NUM_WAITING,
  PACK_ID: SG_GET_PACK_ID,
  COMMAND_Q: SG_GET_COMMAND_Q,
  RESERVED_SIZE: SG_GET_RESERVED_SIZE,
  KEEP_ORPHAN: SG_GET_KEEP_ORPHAN,
  TIMEOUT: SG_GET_TIMEOUT,
  VERSION_NUM: SG_GET_VERSION_NUM,
  SG_TABLESIZE: SG_GET_SG_TABLESIZE,
};
const SET: Readonly<Record<SgSetName, SgIntSetIoctl>> = {
  FORCE_PACK_ID: SG_SET_FORCE_PACK_ID,
  COMMAND_Q: SG_SET_COMMAND_Q,
  RESERVED_SIZE: SG_SET_RESERVED_SIZE,
  KEEP_ORPHAN: SG_SET_KEEP_ORPHAN,
  TIMEOUT: SG_SET_TIMEOUT,
  NEXT_CMD_LEN: SG_NEXT_CMD_LEN,
};

let executor: NativeExecutor;

/** errno of an OsError; the field of an InvalidFieldError (the facade's own refusal). */
function errnoOf(error: unknown): string {
  if (error instanceof OsError) return error.code;
  if (error instanceof InvalidFieldError) return `InvalidFieldError(${error.field})`;
  throw error;
}

/**
 * Runs one sequence on facades (slot -> SgV3File), numbering submissions from `firstSeq` as the
 * probe does; a blocking read() with no reply to return (the kernel would wait for good) is
 * `skip`, and is run on neither side.
 */
async function runOnFacade(
  ops: readonly SgOp[],
  abi: SgAbi,
  kernelExact: boolean,
  firstSeq: number,
): Promise<{ outcomes: (SgOutcome | 'skip')[]; nextSeq: number }> {
  const files = new Map<number, SgV3File>();
  const memory = new Map<number, AddressSpace>();
  const modes = new Map<number, SgOp & { op: 'open' }>();
  const outcomes: (SgOutcome | 'skip')[] = [];
  let seq = firstSeq;
  for (const op of ops) {
    if (op.op === 'open') {
      files.get(op.slot)?.close();
      const space = new AddressSpace({ abi });
      memory.set(op.slot, space);
      modes.set(op.slot, op);
      files.set(
        op.slot,
        new SgV3File(executor, {
          env,
          abi,
          memory: space,
          openMode: op.mode === 'rw' ? 'read-write' : op.mode === 'ro' ? 'read-only' : 'write-only',
          nonBlocking: op.nonBlocking,
          capSysRawio: true, // the probe runs as root
          kernelExact,
        }),
      );
      outcomes.push({ errno: null });
      continue;
    }
    const file = files.get(op.slot);
    if (file === undefined) throw new Error(`slot ${op.slot} is not open`);
    try {
      switch (op.op) {
        case 'close':
          file.close();
          files.delete(op.slot);
          outcomes.push({ errno: null });
          break;
        case 'write':
        case 'sgio': {
          const { hdr } = probeHeader(op.call, seq++, abi, memory.get(op.slot));
          if (op.op === 'write') {
            try {
              file.write(hdr, op.call.count || undefined);
            } finally {
              if (!op.noSettle) await file.drain();
            }
            outcomes.push({ errno: null });
          } else {
            const reply = await file.ioctl(SG_IO, hdr);
            outcomes.push({ errno: null, reply: replyOf(reply.packId, reply.usrPtr, reply) });
          }
          break;
        }
        case 'read': {
          const mode = modes.get(op.slot)!;
          const m = file.model;
          const ready = m.requests.some(
            (r) =>
              r.done === 1 &&
              !r.sgIoOwned &&
              (!m.forcePackId || op.packId === -1 || r.header.packId === op.packId),
          );
          if (!ready && !mode.nonBlocking && mode.mode !== 'wo') {
            outcomes.push('skip');
            break;
          }
          const count = op.count === 0 ? (abi === 'lp64' ? 88 : 64) : op.count;
          const reply = await file.read({ packId: op.packId, count });
          outcomes.push({ errno: null, reply: replyOf(reply.packId, reply.usrPtr, reply) });
          break;
        }
        case 'poll':
          outcomes.push({ errno: null, value: file.poll() });
          break;
        case 'settle':
          await file.drain();
          outcomes.push({ errno: null });
          break;
        case 'table':
          outcomes.push({
            errno: null,
            table: file
              .ioctl(SG_GET_REQUEST_TABLE)
              .map((e) => [e.reqState, e.orphan, e.sgIoOwned, e.problem, e.packId, Number(e.usrPtr)]),
          });
          break;
        case 'get':
          outcomes.push({ errno: null, value: file.ioctl(GET[op.name]) });
          break;
        case 'set':
          file.ioctl(SET[op.name], op.value);
          outcomes.push({ errno: null });
          break;
        case 'mmap':
          file.mmap(op.length, { pageOffset: op.pageOffset });
          outcomes.push({ errno: null });
          break;
      }
    } catch (error) {
      outcomes.push({ errno: errnoOf(error) });
    }
  }
  for (const file of files.values()) {
    await file.drain();
    file.close();
  }
  return { outcomes, nextSeq: seq };
}

interface Comparison {
  readonly sequences: number;
  readonly agreed: number;
  readonly calls: number;
  readonly disagreements: string[];
  /** Default mode only: the steps where the facade departed, by kind. */
  readonly departures: Map<string, number>;
}

/** One step's departure kind in default mode, or undefined when it is not a documented one. */
function documentedDeparture(op: SgOp, facade: SgOutcome, kernel: SgOutcome): string | undefined {
  if (op.op !== 'write' && op.op !== 'sgio') return undefined;
  if (facade.errno === 'InvalidFieldError(flags)' && (op.call.flags ?? 0) & SG_FLAG_MMAP_IO)
    return 'MMAP_IO before mmap()';
  if (
    op.call.dir === SG_DXFER_TO_FROM_DEV &&
    (kernel.errno === 'ENOMEM' || kernel.errno === 'EINVAL') &&
    facade.errno === null
  )
    return 'TO_FROM_DEV as documented';
  return undefined;
}

/** A stand-in completion for planning: which reads would block depends on when requests complete, not on how. */
const GOOD = responseFromSgV3Result(
  {
    status: 0,
    maskedStatus: 0,
    msgStatus: 0,
    sbLenWr: 0,
    hostStatus: 0,
    driverStatus: 0,
    resid: 0,
    duration: 0,
    info: 0,
  },
  new Uint8Array(0),
  'none',
);

/** The ops of each sequence minus the blocking read()s the kernel would wait on for good (the fd model says which). */
function plan(sequences: readonly (readonly SgOp[])[], abi: SgAbi): SgOp[][] {
  let seq = 0;
  return sequences.map((ops) => {
    const run = runOnModel(ops, abi, env, () => GOOD, seq);
    seq = run.nextSeq;
    return ops.filter((_, i) => run.outcomes[i] !== 'skip');
  });
}

async function runAll(
  planned: readonly SgOp[][],
  abi: SgAbi,
  kernelExact: boolean,
): Promise<(SgOutcome | 'skip')[][]> {
  let seq = 0;
  const out: (SgOutcome | 'skip')[][] = [];
  for (const ops of planned) {
    const run = await runOnFacade(ops, abi, kernelExact, seq);
    seq = run.nextSeq;
    out.push(run.outcomes);
  }
  return out;
}

function compare(
  planned: readonly SgOp[][],
  facade: readonly (SgOutcome | 'skip')[][],
  results: readonly ProbeLine[],
  abi: SgAbi,
  kernelExact: boolean,
): Comparison {
  let at = 0;
  let agreed = 0;
  let calls = 0;
  const disagreements: string[] = [];
  const departures = new Map<string, number>();
  planned.forEach((ops, n) => {
    let ok = true;
    let diverged = false;
    ops.forEach((op, i) => {
      const line = results[at]!;
      at += probeLines(op).length;
      calls++;
      const kernel = kernelOutcome(op, line, abi);
      const mine = facade[n]![i]!;
      if (diverged || JSON.stringify(kernel) === JSON.stringify(mine)) return;
      const departure = kernelExact || mine === 'skip' ? undefined : documentedDeparture(op, mine, kernel);
      if (departure !== undefined) {
        departures.set(departure, (departures.get(departure) ?? 0) + 1);
        // The fd's state differs from here on (a request the kernel refused is queued): stop comparing.
        diverged = true;
        return;
      }
      ok = false;
      if (disagreements.length < 10) {
        disagreements.push(
          `sequence ${n} call ${i} ${JSON.stringify(op)}:\n  facade ${JSON.stringify(mine)}\n  kernel ${JSON.stringify(kernel)}`,
        );
      }
    });
    if (ok) agreed++;
  });
  return { sequences: planned.length, agreed, calls, disagreements, departures };
}

const randomSequences = fc.sample(sequenceArb, { numRuns: SEQUENCES_PER_ABI, seed: 0x5e3f1 });
let delay: string;
const comparisons = new Map<SgAbi, { readonly strict: Comparison; readonly loose: Comparison }>();

/**
 * One ABI: the probe (on /dev/sg0) and the two facade runs (on the bsg node of the same disk)
 * at once, then both comparisons against the probe's results.
 */
async function compareAbi(abi: SgAbi): Promise<void> {
  const planned = plan(randomSequences, abi);
  const defaultModePlanned = planned.slice(0, DEFAULT_MODE_SEQUENCES_PER_ABI);
  const [results, exact, helpful] = await Promise.all([
    runProbeAsync(
      buildProbe(abi),
      sg,
      planned.flatMap((ops) => ops.flatMap(probeLines)),
    ),
    runAll(planned, abi, true),
    runAll(defaultModePlanned, abi, false),
  ]);
  comparisons.set(abi, {
    strict: compare(planned, exact, results, abi, true),
    loose: compare(defaultModePlanned, helpful, results, abi, false),
  });
}

beforeAll(() => {
  executor = new NativeExecutor(bsg);
  delay = getScsiDebugParam('delay');
  setScsiDebugParam('delay', 0);
});

afterAll(() => {
  setScsiDebugParam('delay', delay);
  executor?.close();
});

// One ABI at a time: two probes on the same disk at once lost lines of output.
describe.each(['lp64', 'ilp32'] as const)('SgV3File vs the sg driver, %s', (abi) => {
  it(`agrees with kernelExact on ${SEQUENCES_PER_ABI} random call sequences, and departs only where documented without it`, async () => {
    await compareAbi(abi);
    const { strict, loose } = comparisons.get(abi)!;
    console.log(
      `SgV3File (kernelExact) vs /dev/sg (${abi}): ${strict.agreed}/${strict.sequences} sequences agreed, ${strict.calls} calls compared`,
    );
    console.log(
      `SgV3File (default) vs /dev/sg (${abi}): ${loose.agreed}/${loose.sequences} sequences agreed or departed only as documented: ${JSON.stringify(Object.fromEntries(loose.departures))}`,
    );
    expect(strict.disagreements).toEqual([]);
    expect(strict.agreed).toBe(strict.sequences);
    expect(loose.disagreements).toEqual([]);
    expect(loose.agreed).toBe(loose.sequences);
  }, 300_000);
});
