/**
 * Conformance area `reserve`: sg's reserved buffer, mmap and SG_FLAG_MMAP_IO, operation by
 * operation, as sequences on a few file descriptors (the model carries each fd's state:
 * reserve size, `mmap_called`, `res_in_use`, outstanding requests).
 * @module
 */
import {
  RESERVE_RULES,
  type ReserveRuleId,
  type SgEnvironment,
  type SgReserveState,
  sgGetReservedSize,
  sgMmap,
  sgMmapIoRefusal,
  sgOpenReserve,
  sgSetReservedSize,
  TRANSFER_RULES,
  transferRuleSource,
} from '@sgv4/core';
import { labProbe } from '../../guest/probes.js';
import { type BatchedProbe, CaseCollector, type ProbeBatch, runBatchedCases } from '../batches.js';
import type { ConformanceArea, ConformanceDevice, ConformanceRule, RuleCredit } from '../conformance-case.js';
import { type ProbeLine, runProbeScript } from '../probe-runner.js';

const SUMMARIES: Readonly<Record<ReserveRuleId, string>> = {
  'sg-get-reserved-size': 'SG_GET_RESERVED_SIZE reports min(reserve, max_sectors bytes)',
  'sg-set-reserved-size-negative': 'a negative size is EINVAL',
  'sg-set-reserved-size-unchanged': 'the current size (clamped to max_sectors bytes) is a no-op',
  'sg-set-reserved-size-after-mmap':
    'a new size after mmap() on the fd is EBUSY (mmap_called is never cleared)',
  'sg-set-reserved-size-in-use': 'a new size while a request holds the reserve is EBUSY',
  'sg-set-reserved-size-rebuilt': 'otherwise the reserve is rebuilt (sg_build_reserve halves on failure)',
  'sg-mmap-offset': 'mmap() with a non-zero offset is EINVAL',
  'sg-mmap-too-long': 'mmap() of more pages than the reserve is ENOMEM',
  'sg-mmap-mapped': 'otherwise the reserve is mapped and mmap_called set',
  'sg-reserve-linked': 'an indirect request that fits takes the free reserve, else a private buffer',
};
const MMAP_IO_IDS = ['sg-mmap-reserve-too-small', 'sg-mmap-with-direct-io', 'sg-mmap-reserve-busy'] as const;

const RULES: readonly ConformanceRule[] = [
  ...(Object.keys(SUMMARIES) as ReserveRuleId[]).map((id) => ({
    id,
    kernelFunction: RESERVE_RULES[id],
    summary: SUMMARIES[id],
    ...(id === 'sg-get-reserved-size' ? { kind: 'value' as const } : {}),
  })),
  ...MMAP_IO_IDS.map((id) => ({
    id,
    kernelFunction: transferRuleSource(id),
    summary: TRANSFER_RULES[id].summary,
  })),
];

/** SG_SET_RESERVED_SIZE's checks in sg_ioctl_common's order, and sg_mmap's. */
const SET_ORDER: readonly ReserveRuleId[] = [
  'sg-set-reserved-size-negative',
  'sg-set-reserved-size-unchanged',
  'sg-set-reserved-size-after-mmap',
  'sg-set-reserved-size-in-use',
  'sg-set-reserved-size-rebuilt',
];
const MMAP_ORDER: readonly ReserveRuleId[] = ['sg-mmap-offset', 'sg-mmap-too-long', 'sg-mmap-mapped'];

/**
 * One operation's outcomes: the call picks exactly one of `order` (or, for MMAP_IO
 * admission, none), so each case counts for all of them, firing for the one it got.
 */
function outcomes(order: readonly string[], decided: string | undefined): RuleCredit[] {
  return order.map((id) => ({ id, fires: id === decided }));
}

const SG_FLAG_DIRECT_IO = 1;
const SG_FLAG_MMAP_IO = 4;

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

/** Per-fd model state: the reserve and the outstanding requests (whether each holds the reserve). */
interface SlotModel {
  state: SgReserveState;
  outstanding: boolean[];
}

/** The model's prediction for one probe line, and the rules it counts for (none for open/fetch). */
function step(
  slots: Map<number, SlotModel>,
  env: SgEnvironment,
  line: string,
): { predicted: string; rules: RuleCredit[] } {
  const [op, slotText, a, b, c] = line.split(' ');
  const slot = Number(slotText);
  const x = Number(a ?? 0);
  const y = Number(b ?? 0);
  if (op === 'open') {
    slots.set(slot, { state: sgOpenReserve(env), outstanding: [] });
    return { predicted: 'ok', rules: [] };
  }
  const model = slots.get(slot);
  if (model === undefined) throw new Error(`slot ${slot} not open: ${line}`);
  const mmapIo = (flags: number, length: number) =>
    sgMmapIoRefusal(
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
  switch (op) {
    case 'getres':
      return {
        predicted: `ok ${sgGetReservedSize(model.state, env)}`,
        rules: [{ id: 'sg-get-reserved-size', fires: true }],
      };
    case 'setres': {
      const out = sgSetReservedSize(model.state, x, env);
      model.state = out.state;
      return { predicted: out.result === 0 ? 'ok' : out.result, rules: outcomes(SET_ORDER, out.id) };
    }
    case 'mmap': {
      const out = sgMmap(model.state, { length: x, pageOffset: y });
      model.state = out.state;
      return { predicted: out.result === 0 ? 'ok' : out.result, rules: outcomes(MMAP_ORDER, out.id) };
    }
    case 'sgio': {
      // sgio <slot> <off> <len> <flags> <niov>: completes before the next line.
      const refusal = mmapIo(Number(c), y);
      const rules = (Number(c) & SG_FLAG_MMAP_IO) !== 0 ? outcomes(MMAP_IO_IDS, refusal?.id) : [];
      return { predicted: refusal?.errno ?? 'ok', rules };
    }
    case 'submit': {
      const refusal = mmapIo(y, x);
      const rules = (y & SG_FLAG_MMAP_IO) !== 0 ? outcomes(MMAP_IO_IDS, refusal?.id) : [];
      if (refusal) return { predicted: refusal.errno, rules };
      // sg_start_req: an indirect request takes the reserve when it fits and is free.
      const usesReserve = !model.state.inUse && x <= model.state.buffer.bufflen;
      if (usesReserve) model.state = { ...model.state, inUse: true };
      model.outstanding.push(usesReserve);
      return { predicted: 'ok', rules: [...rules, { id: 'sg-reserve-linked', fires: usesReserve }] };
    }
    case 'fetch': {
      const held = model.outstanding.shift();
      if (held) model.state = { ...model.state, inUse: false };
      return { predicted: held === undefined ? 'EAGAIN' : 'ok', rules: [] };
    }
    default:
      throw new Error(`unknown op ${op}`);
  }
}

function observe(line: ProbeLine) {
  if (line.ret < 0) return { observed: line.errno ?? 'EOTHER' };
  return { observed: line.op === 'getres' ? `ok ${String(line.value)}` : 'ok' };
}

function plan(device: ConformanceDevice) {
  const collect = new CaseCollector();
  const env: SgEnvironment = { limits: device.limits };
  for (const sequence of SEQUENCES) {
    const batch: ProbeBatch = {
      name: `reserve sequence ${sequence[0]}`,
      execute: (d) => runProbeScript(labProbe('sg-transfer-probe'), [d.sg], sequence),
    };
    const slots = new Map<number, SlotModel>();
    sequence.forEach((line, index) => {
      const { predicted, rules } = step(slots, env, line);
      if (rules.length > 0) collect.add(batch, index, { input: `sg ${line}`, rules, predicted }, observe);
    });
  }
  return collect.cases;
}

/** The `reserve` area. */
export const reserveArea: ConformanceArea<BatchedProbe> = {
  name: 'reserve',
  title: 'sg reserved buffer, mmap and SG_FLAG_MMAP_IO sequences',
  rules: RULES,
  plan,
  run: runBatchedCases,
};
