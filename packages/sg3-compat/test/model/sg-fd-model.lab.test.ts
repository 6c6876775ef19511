/**
 * The per-fd sg model against the real sg driver (Linux 6.1 in the lab guest), on both ABIs:
 * the same call sequences run on SgFdModel and, through the C probe (gcc -m64 and -m32), on
 * /dev/sg; every call's errno, poll mask, ioctl value, request table and reply must agree.
 * Scripted sequences pin the rules one by one (in-flight states with a slowed scsi_debug);
 * fast-check generates the rest (seeded, so every run replays the same sequences).
 */
import type { ScsiResponse } from '@sgv4/core';
import { getScsiDebugParam, labDeviceNodes, setScsiDebugParam } from '@sgv4/lab';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SG_FLAG_MMAP_IO, type SgAbi, translateSgIoHdr } from '../../src/index.js';
import { NativeExecutor } from '../lab-helpers/native-executor.js';
import {
  kernelOutcome,
  labEnvironment,
  probeLines,
  responseKey,
  runOnModel,
  type SgOp,
  type SgOutcome,
  sequenceArb,
} from '../lab-helpers/sg-sequences.js';
import { buildProbe, type ProbeCall, probeHeader, runProbe } from '../lab-helpers/sg-v3-probe.js';

const nodes = labDeviceNodes();
const sg = nodes.sg[0]!;
const bsg = nodes.bsg[0]!;
const env = labEnvironment(nodes.block[0]!);

/** Random sequences per ABI (the SgV3 facade's lab test, built on this model, adds 520 more). */
const RANDOM_SEQUENCES = 40;

const probes = new Map<SgAbi, string>();
const responses = new Map<string, ScsiResponse>();
let executor: NativeExecutor;

/** Runs each distinct command once on bsg: the responses the model completes requests with. */
async function learnResponses(calls: readonly ProbeCall[]): Promise<void> {
  for (const call of calls) {
    const key = responseKey(call);
    if (responses.has(key)) continue;
    const { memory, hdr } = probeHeader(
      { ...call, flags: 0, niov: 0, mx: 96, cmdLen: 0, iface: 0x53 },
      0,
      'lp64',
    );
    const t = translateSgIoHdr(
      { ...hdr, dxferDirection: call.dir === -4 ? -3 : call.dir },
      { abi: 'lp64', memory, tag: 0n },
    );
    responses.set(key, await executor.submit({ ...t.request, maxSenseLength: 96 }));
  }
}

function responseOf(call: ProbeCall): ScsiResponse {
  const r = responses.get(responseKey(call));
  if (r === undefined) throw new Error(`no response learned for ${responseKey(call)}`);
  return r;
}

function callsOf(sequences: readonly (readonly SgOp[])[]): ProbeCall[] {
  return sequences.flatMap((ops) =>
    ops.flatMap((op) => (op.op === 'write' || op.op === 'sgio' ? [op.call] : [])),
  );
}

interface Comparison {
  readonly sequences: number;
  readonly agreed: number;
  readonly calls: number;
  readonly disagreements: string[];
}

/**
 * Runs `sequences` on the model and (in one probe process) on the driver, and compares call
 * by call. A blocking read() the model says would wait for good is run on neither.
 */
function compare(sequences: readonly (readonly SgOp[])[], abi: SgAbi): Comparison {
  let seq = 0;
  const planned: { ops: SgOp[]; model: SgOutcome[] }[] = [];
  for (const ops of sequences) {
    const run = runOnModel(ops, abi, env, responseOf, seq);
    seq = run.nextSeq;
    const kept = ops.filter((_, i) => run.outcomes[i] !== 'skip');
    const model = run.outcomes.filter((o): o is SgOutcome => o !== 'skip');
    planned.push({ ops: kept, model });
  }
  const lines = planned.flatMap((p) => p.ops.flatMap(probeLines));
  const results = runProbe(probes.get(abi)!, sg, lines);
  let at = 0;
  let agreed = 0;
  let calls = 0;
  const disagreements: string[] = [];
  planned.forEach((p, n) => {
    let ok = true;
    p.ops.forEach((op, i) => {
      const line = results[at]!;
      at += probeLines(op).length;
      calls++;
      const kernel = kernelOutcome(op, line, abi);
      const model = p.model[i]!;
      if (JSON.stringify(kernel) !== JSON.stringify(model)) {
        ok = false;
        if (disagreements.length < 10) {
          disagreements.push(
            `sequence ${n} call ${i} ${JSON.stringify(op)}:\n  model  ${JSON.stringify(model)}\n  kernel ${JSON.stringify(kernel)}\n  before: ${p.ops
              .slice(Math.max(0, i - 6), i)
              .map((o) => JSON.stringify(o))
              .join('\n          ')}`,
          );
        }
      }
    });
    if (ok) agreed++;
  });
  return { sequences: sequences.length, agreed, calls, disagreements };
}

const w = (slot: number, call: Partial<ProbeCall> & Pick<ProbeCall, 'packId'>, noSettle = false): SgOp => ({
  op: 'write',
  slot,
  call: { kind: 'read', dir: -3, len: 4096, count: 88, ...call },
  noSettle,
});
const open = (slot: number, nonBlocking = false, mode: 'rw' | 'ro' | 'wo' = 'rw'): SgOp => ({
  op: 'open',
  slot,
  mode,
  nonBlocking,
});

/** One sequence per rule family. */
const SCRIPTED: readonly (readonly SgOp[])[] = [
  // pack_id reads: submission order, FORCE_PACK_ID, -1, a missing pack_id, EAGAIN.
  [
    open(0, true),
    w(0, { packId: 3 }),
    w(0, { packId: 1 }),
    w(0, { packId: 2 }),
    { op: 'get', slot: 0, name: 'PACK_ID' },
    { op: 'get', slot: 0, name: 'NUM_WAITING' },
    { op: 'set', slot: 0, name: 'FORCE_PACK_ID', value: 1 },
    { op: 'read', slot: 0, packId: 2, count: 0 },
    { op: 'read', slot: 0, packId: 7, count: 0 },
    { op: 'read', slot: 0, packId: -1, count: 0 },
    { op: 'set', slot: 0, name: 'FORCE_PACK_ID', value: 0 },
    { op: 'read', slot: 0, packId: 2, count: 0 },
    { op: 'read', slot: 0, packId: -1, count: 0 },
    { op: 'poll', slot: 0 },
  ],
  // The 16-slot queue, EDOM, POLLOUT, the table, and a short read() dropping a reply.
  [
    open(0, true),
    ...Array.from({ length: 16 }, (_, i) =>
      w(0, {
        packId: i,
        kind: i % 3 === 0 ? 'oob' : 'tur',
        dir: i % 3 === 0 ? -3 : -1,
        len: i % 3 === 0 ? 512 : 0,
      }),
    ),
    w(0, { packId: 99 }),
    { op: 'sgio', slot: 0, call: { kind: 'tur', dir: -1, len: 0, packId: 98 } },
    { op: 'poll', slot: 0 },
    { op: 'table', slot: 0 },
    { op: 'read', slot: 0, packId: -1, count: 63 },
    { op: 'get', slot: 0, name: 'NUM_WAITING' },
    { op: 'poll', slot: 0 },
    { op: 'set', slot: 0, name: 'COMMAND_Q', value: 0 },
    { op: 'poll', slot: 0 },
    w(0, { packId: 100 }),
    { op: 'get', slot: 0, name: 'COMMAND_Q' },
  ],
  // The reserve, mmap and mmap-ed IO: one outstanding per fd, EBUSY after mmap, ENOMEM, EINVAL.
  [
    open(0, true),
    open(1, true),
    { op: 'set', slot: 0, name: 'RESERVED_SIZE', value: 65536 },
    { op: 'get', slot: 0, name: 'RESERVED_SIZE' },
    { op: 'mmap', slot: 0, length: 65537, pageOffset: 0 },
    { op: 'mmap', slot: 0, length: 65536, pageOffset: 1 },
    { op: 'mmap', slot: 0, length: 65536, pageOffset: 0 },
    { op: 'set', slot: 0, name: 'RESERVED_SIZE', value: 8192 },
    { op: 'set', slot: 0, name: 'RESERVED_SIZE', value: 65536 },
    w(0, { packId: 1, flags: SG_FLAG_MMAP_IO, len: 8192 }),
    w(0, { packId: 2, flags: SG_FLAG_MMAP_IO, len: 8192 }),
    w(0, { packId: 3, flags: SG_FLAG_MMAP_IO | 1, len: 8192 }),
    w(0, { packId: 4, flags: SG_FLAG_MMAP_IO, len: 65537 }),
    w(1, { packId: 5, flags: SG_FLAG_MMAP_IO, len: 8192 }),
    { op: 'read', slot: 0, packId: -1, count: 0 },
    w(0, { packId: 6, flags: SG_FLAG_MMAP_IO, len: 8192 }),
    w(0, { packId: 7, len: 1000 }),
    { op: 'sgio', slot: 0, call: { kind: 'read', dir: -3, len: 512, packId: 8, flags: SG_FLAG_MMAP_IO } },
    { op: 'read', slot: 0, packId: -1, count: 0 },
    { op: 'read', slot: 0, packId: -1, count: 0 },
    { op: 'sgio', slot: 0, call: { kind: 'read', dir: -3, len: 512, packId: 8, flags: SG_FLAG_MMAP_IO } },
  ],
  // Submission refusals in kernel order, on both submission calls, and TO_FROM_DEV on 6.1.192.
  [
    open(0, true),
    w(0, { packId: 1, count: 35 }),
    w(0, { packId: 1, count: 64 }),
    w(0, { packId: 1, iface: 0x51 }),
    w(0, { packId: 1, cmdLen: 5 }),
    w(0, { packId: 1, cmdLen: 40 }),
    w(0, { packId: 1, dir: -4 }),
    w(0, { packId: 1, dir: -4, len: 65536 }),
    w(0, { packId: 1, dir: -4, flags: SG_FLAG_MMAP_IO }),
    { op: 'sgio', slot: 0, call: { kind: 'inq', dir: -4, len: 96, packId: 2 } },
    { op: 'get', slot: 0, name: 'NUM_WAITING' },
    { op: 'table', slot: 0 },
    { op: 'set', slot: 0, name: 'TIMEOUT', value: -1 },
    { op: 'set', slot: 0, name: 'TIMEOUT', value: 2_000_000_000 },
    { op: 'get', slot: 0, name: 'TIMEOUT' },
    { op: 'set', slot: 0, name: 'KEEP_ORPHAN', value: 255 },
    { op: 'get', slot: 0, name: 'KEEP_ORPHAN' },
    { op: 'set', slot: 0, name: 'NEXT_CMD_LEN', value: 253 },
    { op: 'get', slot: 0, name: 'VERSION_NUM' },
    { op: 'get', slot: 0, name: 'SG_TABLESIZE' },
  ],
  // Access modes: write() on O_RDONLY, read() on O_WRONLY, mmap on either.
  [
    open(0, true, 'ro'),
    open(1, true, 'wo'),
    w(0, { packId: 1 }),
    { op: 'read', slot: 1, packId: -1, count: 0 },
    { op: 'mmap', slot: 0, length: 4096, pageOffset: 0 },
    { op: 'mmap', slot: 1, length: 4096, pageOffset: 0 },
    { op: 'sgio', slot: 0, call: { kind: 'read', dir: -3, len: 512, packId: 2 } },
    w(1, { packId: 3 }),
    { op: 'poll', slot: 1 },
  ],
];

/** Calls observed while a request is in flight (scsi_debug delayed by 1 s). */
const IN_FLIGHT: readonly SgOp[] = [
  open(0, true),
  w(0, { packId: 1, len: 1000 }, true),
  { op: 'poll', slot: 0 },
  { op: 'read', slot: 0, packId: -1, count: 0 },
  { op: 'get', slot: 0, name: 'NUM_WAITING' },
  { op: 'get', slot: 0, name: 'PACK_ID' },
  { op: 'table', slot: 0 },
  { op: 'set', slot: 0, name: 'RESERVED_SIZE', value: 65536 },
  w(0, { packId: 2, flags: SG_FLAG_MMAP_IO, len: 512 }, true),
  { op: 'settle', slot: 0 },
  { op: 'poll', slot: 0 },
  { op: 'table', slot: 0 },
  { op: 'read', slot: 0, packId: -1, count: 0 },
  { op: 'read', slot: 0, packId: -1, count: 0 },
];

/** Interrupted SG_IO: orphans dropped, or kept for read() under SG_SET_KEEP_ORPHAN (delay 1 s). */
const ORPHANS: readonly SgOp[] = [
  open(0, true),
  { op: 'sgio', slot: 0, call: { kind: 'read', dir: -3, len: 512, packId: 5 }, interrupt: true },
  { op: 'table', slot: 0 },
  { op: 'poll', slot: 0 },
  { op: 'settle', slot: 0 },
  { op: 'table', slot: 0 },
  { op: 'get', slot: 0, name: 'NUM_WAITING' },
  { op: 'set', slot: 0, name: 'KEEP_ORPHAN', value: 1 },
  // READ, not INQUIRY: scsi_debug answers INQUIRY at once whatever its delay (F_DELAY_OVERR).
  { op: 'sgio', slot: 0, call: { kind: 'read', dir: -3, len: 1024, packId: 6 }, interrupt: true },
  { op: 'table', slot: 0 },
  { op: 'settle', slot: 0 },
  { op: 'table', slot: 0 },
  { op: 'poll', slot: 0 },
  { op: 'get', slot: 0, name: 'PACK_ID' },
  { op: 'read', slot: 0, packId: -1, count: 0 },
  { op: 'read', slot: 0, packId: -1, count: 0 },
];

const randomSequences = fc.sample(sequenceArb, { numRuns: RANDOM_SEQUENCES, seed: 0x5e3c0 });

beforeAll(async () => {
  executor = new NativeExecutor(bsg);
  for (const abi of ['lp64', 'ilp32'] as const) probes.set(abi, buildProbe(abi));
  await learnResponses(callsOf([...SCRIPTED, IN_FLIGHT, ORPHANS, ...randomSequences]));
});

afterAll(() => executor?.close());

describe.each(['lp64', 'ilp32'] as const)('SgFdModel vs the sg driver, %s', (abi) => {
  it('agrees on every call of the scripted sequences', () => {
    const result = compare(SCRIPTED, abi);
    expect(result.disagreements).toEqual([]);
    expect(result.agreed).toBe(SCRIPTED.length);
  });

  it('agrees while requests are in flight and on interrupted SG_IO (scsi_debug delay 1 s)', () => {
    const delay = getScsiDebugParam('delay');
    setScsiDebugParam('delay', 250);
    try {
      const result = compare([IN_FLIGHT, ORPHANS], abi);
      expect(result.disagreements).toEqual([]);
    } finally {
      setScsiDebugParam('delay', delay);
    }
  });

  it(`agrees on ${RANDOM_SEQUENCES} random call sequences`, () => {
    // delay 0: scsi_debug answers in the submitting thread, so the settle after each write is short.
    const delay = getScsiDebugParam('delay');
    setScsiDebugParam('delay', 0);
    let result: Comparison;
    try {
      result = compare(randomSequences, abi);
    } finally {
      setScsiDebugParam('delay', delay);
    }
    console.log(
      `sg fd model vs /dev/sg (${abi}): ${result.agreed}/${result.sequences} sequences agreed, ${result.calls} calls compared`,
    );
    expect(result.disagreements).toEqual([]);
    expect(result.agreed).toBe(result.sequences);
  });
});
