/**
 * Lab conformance: sg reserved-buffer get/set, mmap and SG_FLAG_MMAP_IO errno
 * sequences of the model against the real sg driver, operation by operation.
 */
import {
  type SgEnvironment,
  type SgReserveState,
  sgGetReservedSize,
  sgMmap,
  sgMmapIoRefusal,
  sgOpenReserve,
  sgSetReservedSize,
} from '@sgv4/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildProbe, readQueueLimits, runProbe, scsiDebugSgNode } from './transfer-lab-helpers.js';

const SG_FLAG_DIRECT_IO = 1;
const SG_FLAG_MMAP_IO = 4;

/** Per-slot model state: the reserve and the outstanding requests (whether each holds the reserve). */
interface SlotModel {
  state: SgReserveState;
  outstanding: boolean[];
}

/** What the model predicts for one probe line: errno (null = success) and, for getres, the value. */
function step(
  slots: Map<number, SlotModel>,
  env: SgEnvironment,
  line: string,
): { errno: string | null; value?: number } {
  const [op, slotText, a, b] = line.split(' ');
  const slot = Number(slotText);
  const model = slots.get(slot);
  const x = Number(a ?? 0);
  const y = Number(b ?? 0);
  if (op === 'open') {
    slots.set(slot, { state: sgOpenReserve(env), outstanding: [] });
    return { errno: null };
  }
  if (model === undefined) throw new Error(`slot ${slot} not open: ${line}`);
  switch (op) {
    case 'getres':
      return { errno: null, value: sgGetReservedSize(model.state, env) };
    case 'setres': {
      const out = sgSetReservedSize(model.state, x, env);
      model.state = out.state;
      return { errno: out.result === 0 ? null : out.result };
    }
    case 'mmap': {
      const out = sgMmap(model.state, { length: x, pageOffset: y });
      model.state = out.state;
      return { errno: out.result === 0 ? null : out.result };
    }
    case 'sgio': {
      // sgio <slot> <off> <len> <flags> <niov>: completes synchronously.
      const length = y;
      const flags = Number(line.split(' ')[4]);
      const refusal = sgMmapIoRefusal(
        {
          dxferLength: length,
          direction: 'from-device',
          directIo: (flags & SG_FLAG_DIRECT_IO) !== 0,
          mmapIo: (flags & SG_FLAG_MMAP_IO) !== 0,
          iovecCount: 0,
          dxferp: 0,
        },
        model.state,
      );
      return { errno: refusal?.errno ?? null };
    }
    case 'submit': {
      const flags = y;
      const refusal = sgMmapIoRefusal(
        {
          dxferLength: x,
          direction: 'from-device',
          directIo: (flags & SG_FLAG_DIRECT_IO) !== 0,
          mmapIo: (flags & SG_FLAG_MMAP_IO) !== 0,
          iovecCount: 0,
          dxferp: 0,
        },
        model.state,
      );
      if (refusal) return { errno: refusal.errno };
      // sg_start_req: the reserve is linked when it fits and is free (indirect IO).
      const usesReserve = !model.state.inUse && x <= model.state.buffer.bufflen;
      if (usesReserve) model.state = { ...model.state, inUse: true };
      model.outstanding.push(usesReserve);
      return { errno: null };
    }
    case 'fetch': {
      const held = model.outstanding.shift();
      if (held) model.state = { ...model.state, inUse: false };
      return { errno: held === undefined ? 'EAGAIN' : null };
    }
    default:
      throw new Error(`unknown op ${op}`);
  }
}

/** The sequences: reserve sizing, mmap rules, MMAP_IO admission, and the in-use EBUSY cases. */
const SEQUENCES: readonly (readonly string[])[] = [
  [
    'open 0',
    'getres 0',
    'setres 0 1000',
    'getres 0',
    'setres 0 1000',
    'setres 0 5000',
    'getres 0',
    'setres 0 -1',
    'getres 0',
    'setres 0 100000000',
    'getres 0',
    'setres 0 0',
    'getres 0',
    'setres 0 65536',
    'getres 0',
  ],
  [
    'open 1',
    'setres 1 65536',
    'mmap 1 65536 1',
    'mmap 1 65537 0',
    'mmap 1 131072 0',
    'setres 1 32768',
    'mmap 1 65536 0',
    'setres 1 32768',
    'setres 1 65536',
    'getres 1',
    'mmap 1 4096 0',
    'sgio 1 0 65536 4 0',
    'sgio 1 0 65537 4 0',
    'sgio 1 0 4096 5 0',
    'sgio 1 0 100000 5 0',
    'submit 1 4096 4',
    'sgio 1 0 4096 4 0',
    'submit 1 4096 4',
    'fetch 1',
    'sgio 1 0 4096 4 0',
  ],
  [
    'open 2',
    'setres 2 5000',
    'mmap 2 5000 0',
    'mmap 2 5120 0',
    'setres 2 8192',
    'getres 2',
    'mmap 2 8192 0',
    'setres 2 8192',
    'setres 2 4096',
  ],
  [
    'open 3',
    'submit 3 1000 0',
    'setres 3 65536',
    'getres 3',
    'submit 3 100000 0',
    'fetch 3',
    'setres 3 65536',
    'getres 3',
    'submit 3 65536 0',
    'setres 3 4096',
    'fetch 3',
    'setres 3 4096',
    'getres 3',
  ],
];

describe('sg reserved buffer, mmap and MMAP_IO: model vs real sg driver', () => {
  let binary: string;
  let node: { device: string; queueDir: string };
  let env: SgEnvironment;

  beforeAll(() => {
    binary = buildProbe();
    node = scsiDebugSgNode();
    env = { limits: readQueueLimits(node.queueDir) };
  });

  it('every operation returns what the model predicts', () => {
    let agree = 0;
    let total = 0;
    const disagreements: string[] = [];
    for (const sequence of SEQUENCES) {
      const actual = runProbe(binary, node.device, sequence);
      const slots = new Map<number, SlotModel>();
      sequence.forEach((line, i) => {
        const predicted = step(slots, env, line);
        const got = actual[i]!;
        total++;
        const valueOk = predicted.value === undefined || predicted.value === got.value;
        if (predicted.errno === got.errno && valueOk) agree++;
        else {
          disagreements.push(
            `${line}: model errno=${predicted.errno} value=${predicted.value}; kernel errno=${got.errno} value=${got.value}`,
          );
        }
      });
    }
    console.log(`sg reserve/mmap/MMAP_IO sequence agreement: ${agree}/${total} operations`);
    expect(disagreements).toEqual([]);
  });
});
