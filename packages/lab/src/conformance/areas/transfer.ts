/**
 * Conformance area `transfer`: `planTransfer` against the real data path. sg's direct-IO
 * choice (SG_INFO_DIRECT_IO) for randomized buffers; max_segments through the real bio
 * code for sg, block SG_IO and bsg; sg's 256 MiB limit and its place after the MMAP_IO
 * checks; import_iovec's limits; MAX_RW_COUNT, access_ok and the copy/zero-copy choice
 * at the top of the user address space (a copy maps without touching the pages, pinning
 * unmapped pages faults); bsg's iovec hazard, with the bytes the device really received;
 * SG_DXFER_TO_FROM_DEV through sg's buffer (the 6.1.80+ regression: ENOMEM or EINVAL) against
 * the other directions, direct IO and block SG_IO.
 * @module
 */
import {
  maxRwCount,
  planTransfer,
  type QueueLimits,
  TRANSFER_RULES,
  type TransferPlan,
  type TransferRequest,
  type TransferRuleId,
  transferRuleSource,
  type UserIovec,
  X86_64_TASK_SIZE_MAX,
} from '@sgv4/core';
import { labProbe } from '../../guest/probes.js';
import { getSgAllowDio, setSgAllowDio } from '../../guest/sg-settings.js';
import { type BatchedProbe, CaseCollector, type ProbeBatch, runBatchedCases } from '../batches.js';
import type {
  ConformanceArea,
  ConformanceDevice,
  ConformanceRule,
  ObservedCase,
} from '../conformance-case.js';
import { creditsFor } from '../credits.js';
import { outcomeOf, type ProbeLine, runProbeScript } from '../probe-runner.js';
import { seededRandom } from '../seeded-random.js';

const NOT_IN_LAB: Partial<Record<TransferRuleId, string>> = {
  'copy-virt-boundary-gap': 'scsi_debug has no virt_boundary_mask (no lab device has one)',
  'copy-bounce-highmem': 'x86-64 has no highmem: no queue may bounce',
  'bio-virt-boundary-gap': 'scsi_debug has no virt_boundary_mask (no lab device has one)',
  'bio-max-hw-sectors': 'scsi_debug max_hw_sectors is UINT_MAX: max_segments (2048 pages) binds long before',
  'bio-page-does-not-fit': 'needs max_hw_sectors below one page, which blk_queue_max_hw_sectors forbids',
  'sg-buffer-too-small': 'sg_start_req sizes its buffer for dxfer_len first; the check only guards the model',
  'dma-pad': 'scsi_debug has dma_pad_mask 0 (libata sets 3 for ATAPI)',
  'atapi-dma-drain': 'no ATAPI device in the lab (the drain is for libata ATAPI devices only)',
};

const IDS: readonly TransferRuleId[] = [
  'sg-max-dxfer-len',
  'sg-direct-io',
  'sg-indirect-too-large',
  'uio-maxiov',
  'iovecs-empty',
  'access-ok',
  'max-rw-count',
  'copy-rq-map-data',
  'copy-bounce-highmem',
  'copy-dma-alignment',
  'copy-virt-boundary-gap',
  'user-pages-fault',
  'bsg-ignores-iovec-count',
  'bio-max-segments',
  'bio-max-hw-sectors',
  'bio-virt-boundary-gap',
  'bio-page-does-not-fit',
  'sg-buffer-too-small',
  'sg-to-from-dev-regression',
  'dma-pad',
  'atapi-dma-drain',
];

const RULES: readonly ConformanceRule[] = IDS.map((id) => {
  const notInLab = NOT_IN_LAB[id];
  return {
    id,
    kernelFunction: transferRuleSource(id),
    summary: TRANSFER_RULES[id].summary,
    ...(notInLab === undefined ? {} : { notInLab }),
  };
});

/**
 * Any page-aligned base for the probes' 16 MiB arena: only the offsets' low bits matter to
 * the alignment rules, and the model's default page frames are virtual = physical.
 */
const ARENA_NOMINAL_BASE = 0x7f00_0000_0000;
const SG_FLAG_DIRECT_IO = 1;
const SG_FLAG_MMAP_IO = 4;
const SG_INFO_DIRECT_IO = 2;
const MIB = 1024 * 1024;
const READ_10_ONE = '28000000000000000100';
const WRITE_10_EIGHT = '2a0000000000c8000800';
/** WRITE(10) of `length` bytes (whole blocks) at LBA 200: the cases that move data out write zeros there. */
function write10At200(length: number): string {
  return `2a0000000000c8${Math.ceil(length / 512)
    .toString(16)
    .padStart(4, '0')}00`;
}

/** The model's outcome in the probe's words: errno, or `ok` (sg: `ok direct` / `ok indirect`). */
function predictedOf(plan: TransferPlan, sg: boolean): string {
  if (plan.outcome === 'refused') return plan.refusal?.errno ?? 'EOTHER';
  return sg ? `ok ${plan.sgDirectIo === true ? 'direct' : 'indirect'}` : 'ok';
}

function observeSg(line: ProbeLine): ObservedCase {
  if (line.ret < 0) return { observed: line.errno ?? 'EOTHER' };
  return { observed: `ok ${(Number(line.info ?? 0) & SG_INFO_DIRECT_IO) !== 0 ? 'direct' : 'indirect'}` };
}

function observePlain(line: ProbeLine): ObservedCase {
  return { observed: outcomeOf(line) };
}

/** Credits: the rules the case was built to test, each firing when the plan says so. */
function credits(plan: TransferPlan, tests: readonly TransferRuleId[], request: TransferRequest) {
  const fired = new Set<string>();
  if (plan.refusal) fired.add(plan.refusal.id);
  if (plan.sgDirectIo === true) fired.add('sg-direct-io');
  if (plan.lengthCap) fired.add('max-rw-count');
  // The cap applies before access_ok: a refused request over MAX_RW_COUNT was cut too.
  const requested = request.dxferLength ?? 0;
  if (requested > maxRwCount(request.pageSize)) fired.add('max-rw-count');
  if (plan.hazard) fired.add('bsg-ignores-iovec-count');
  const copy = plan.copyReason?.rule;
  if (copy === 'rq-map-data') fired.add('copy-rq-map-data');
  if (copy === 'dma-alignment') fired.add('copy-dma-alignment');
  if (copy === 'bounce-highmem') fired.add('copy-bounce-highmem');
  const tested = [...tests];
  if (plan.refusal && IDS.includes(plan.refusal.id) && !tested.includes(plan.refusal.id)) {
    tested.push(plan.refusal.id);
  }
  return creditsFor(RULES, tested, undefined).map((c) => ({ id: c.id, fires: fired.has(c.id) }));
}

interface DioCase {
  readonly offset: number;
  readonly length: number;
  readonly flags: number;
  readonly niov: number;
}

function pick<T>(random: () => number, choices: readonly T[]): T {
  return choices[Math.floor(random() * choices.length)] as T;
}

/** Offsets and lengths biased towards the alignments that matter (4, 512, 4096) and their neighbours. */
function randomDioCases(seed: number, count: number): DioCase[] {
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

/** The iovecs sg-transfer-probe builds for a case (its `sgio` split rule). */
function dioIovecs(c: DioCase): UserIovec[] {
  if (c.niov === 0) return [{ address: ARENA_NOMINAL_BASE + c.offset, length: c.length }];
  const piece = Math.floor(c.length / c.niov);
  const out: UserIovec[] = [];
  let done = 0;
  for (let i = 0; i < c.niov; i++) {
    const length = i === c.niov - 1 ? c.length - done : piece;
    out.push({ address: ARENA_NOMINAL_BASE + c.offset + done, length });
    done += length;
  }
  return out;
}

/** A sg-transfer-probe script on `node` with allow_dio set for its run (and restored). */
function transferBatch(
  name: string,
  node: (device: ConformanceDevice) => string,
  allowDio: boolean,
  lines: readonly string[],
): ProbeBatch {
  return {
    name,
    execute: (device) => {
      const saved = getSgAllowDio();
      setSgAllowDio(allowDio);
      try {
        return runProbeScript(labProbe('sg-transfer-probe'), [node(device)], ['open 0', ...lines]).slice(1);
      } finally {
        setSgAllowDio(saved);
      }
    },
  };
}

/**
 * A sg-submit-probe script as root after opening the nodes `opens` names; with `allowDio`,
 * sg's allow_dio is set for the run (and restored).
 */
function submitBatch(
  name: string,
  opens: (d: ConformanceDevice) => string[],
  lines: readonly string[],
  allowDio?: boolean,
): ProbeBatch {
  const run = (device: ConformanceDevice) => {
    const head = opens(device);
    return runProbeScript(labProbe('sg-submit-probe'), [], [...head, ...lines]).slice(head.length);
  };
  if (allowDio === undefined) return { name, execute: run };
  return {
    name,
    execute: (device) => {
      const saved = getSgAllowDio();
      setSgAllowDio(allowDio);
      try {
        return run(device);
      } finally {
        setSgAllowDio(saved);
      }
    },
  };
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function plan(device: ConformanceDevice) {
  const collect = new CaseCollector();
  const limits: QueueLimits = device.limits;
  const addPlan = (
    batch: ProbeBatch,
    index: number,
    input: string,
    request: TransferRequest,
    tests: readonly TransferRuleId[],
    observe: (line: ProbeLine) => ObservedCase,
  ) => {
    const p = planTransfer(request);
    collect.add(
      batch,
      index,
      { input, rules: credits(p, tests, request), predicted: predictedOf(p, observe === observeSg) },
      observe,
    );
  };

  // sg direct IO: SG_INFO_DIRECT_IO for randomized buffers, allow_dio 1 then 0.
  for (const [seed, count, allowDio] of [
    [20261122, 240, true],
    [7, 30, false],
  ] as const) {
    const cases = randomDioCases(seed, count);
    const batch = transferBatch(
      `direct IO allow_dio=${allowDio ? 1 : 0}`,
      (d) => d.sg,
      allowDio,
      cases.map((c) => `sgio 0 ${c.offset} ${c.length} ${c.flags} ${c.niov}`),
    );
    cases.forEach((c, i) => {
      addPlan(
        batch,
        i,
        `sg SG_IO off=${c.offset} len=${c.length} flags=${c.flags} niov=${c.niov} allow_dio=${allowDio ? 1 : 0}`,
        {
          limits,
          iface: 'sg',
          direction: 'from-device',
          iovecs: dioIovecs(c),
          vector: c.niov > 0,
          sg: { allowDio, directIo: (c.flags & SG_FLAG_DIRECT_IO) !== 0 },
        },
        ['sg-direct-io', 'copy-rq-map-data'],
        observeSg,
      );
    });
  }

  // max_segments through the real bio code: ~8 MiB requests on every path.
  const MIB8 = 8 * MIB;
  const shapes = [
    [0, MIB8],
    [0, MIB8 + 4096],
    [4, MIB8],
    [2, MIB8],
    [4, MIB8 - 4096],
    [0, MIB8 - 512],
  ] as const;
  for (const iface of ['sg', 'block', 'bsg'] as const) {
    for (const dio of iface === 'sg' ? [true, false] : [false]) {
      const lines = shapes.map(([offset, length]) =>
        iface === 'bsg' ? `bsgio 0 ${offset} ${length}` : `sgio 0 ${offset} ${length} ${dio ? 1 : 0} 0`,
      );
      const batch = transferBatch(
        `max_segments ${iface}${iface === 'sg' ? (dio ? ' direct' : ' indirect') : ''}`,
        (d) => (iface === 'sg' ? d.sg : iface === 'block' ? d.disk : d.bsg),
        true,
        lines,
      );
      shapes.forEach(([offset, length], i) => {
        addPlan(
          batch,
          i,
          `${iface} ${iface === 'sg' ? (dio ? 'direct ' : 'indirect ') : ''}READ off=${offset} len=${length}`,
          {
            limits,
            iface,
            direction: 'from-device',
            iovecs: [{ address: ARENA_NOMINAL_BASE + offset, length }],
            sg: { allowDio: true, directIo: dio },
          },
          iface === 'sg' ? ['bio-max-segments', 'sg-direct-io'] : ['bio-max-segments', 'copy-dma-alignment'],
          iface === 'sg' ? observeSg : observePlain,
        );
      });
    }
  }

  // sg: the 256 MiB limit (after the MMAP_IO checks), the indirect-buffer limit, import_iovec.
  const sgLines: string[] = [];
  const sgBatch = submitBatch('sg limits (root)', (d) => [`open 0 ${d.sg} rw`], sgLines);
  const sgCase = (
    input: string,
    line: string,
    request: Omit<TransferRequest, 'limits' | 'iface' | 'direction'>,
    tests: readonly TransferRuleId[],
  ) => {
    sgLines.push(line);
    addPlan(
      sgBatch,
      sgLines.length - 1,
      input,
      { limits, iface: 'sg', direction: 'from-device', ...request },
      tests,
      observePlain,
    );
  };
  const flat = (length: number) => [{ address: ARENA_NOMINAL_BASE, length }];
  sgCase(
    'sg READ dxfer_len 256 MiB',
    `v3 0 ioctl 0x53 10 ${READ_10_ONE} from ${256 * MIB} 0 0 arena`,
    { iovecs: flat(256 * MIB) },
    ['sg-max-dxfer-len'],
  );
  sgCase(
    'sg READ dxfer_len 256 MiB - 512 (indirect buffer)',
    `v3 0 ioctl 0x53 10 ${READ_10_ONE} from ${256 * MIB - 512} 0 0 arena`,
    { iovecs: flat(256 * MIB - 512) },
    ['sg-max-dxfer-len', 'sg-indirect-too-large'],
  );
  sgCase(
    'sg READ MMAP_IO dxfer_len 256 MiB, 32 KiB reserve (MMAP_IO check first)',
    `v3 0 ioctl 0x53 10 ${READ_10_ONE} from ${256 * MIB} 4 0 null`,
    { iovecs: [{ address: 0, length: 256 * MIB }], sg: { mmapIo: true } },
    ['sg-max-dxfer-len'],
  );
  sgCase(
    'sg READ 64 KiB (indirect buffer fits)',
    `v3 0 ioctl 0x53 10 ${READ_10_ONE} from 65536 0 0 arena`,
    { iovecs: flat(65536) },
    ['sg-indirect-too-large', 'sg-max-dxfer-len'],
  );
  const iovecs = (count: number, total: number, empty = false): UserIovec[] => {
    const piece = Math.floor(total / count);
    return Array.from({ length: count }, (_, i) => ({
      address: ARENA_NOMINAL_BASE + i * 4096,
      length: empty ? 0 : i === count - 1 ? total - piece * (count - 1) : piece,
    }));
  };
  sgCase(
    'sg READ 512 bytes in 1025 iovecs',
    `v3 0 ioctl 0x53 10 ${READ_10_ONE} from 512 0 1025 iov`,
    { iovecs: iovecs(1025, 512), vector: true },
    ['uio-maxiov'],
  );
  sgCase(
    'sg READ 512 bytes in 1024 iovecs',
    `v3 0 ioctl 0x53 10 ${READ_10_ONE} from 512 0 1024 iov`,
    { iovecs: iovecs(1024, 512), vector: true },
    ['uio-maxiov', 'iovecs-empty'],
  );
  sgCase(
    'sg READ 512 bytes into 2 empty iovecs',
    `v3 0 ioctl 0x53 10 ${READ_10_ONE} from 512 0 2 iov0`,
    { iovecs: iovecs(2, 512, true), vector: true, dxferLength: 512 },
    ['iovecs-empty'],
  );

  // SG_DXFER_TO_FROM_DEV: sg's indirect path fails on 6.1.80+ (the copy-in never advances the
  // iterator); the same sizes in the other directions, direct IO and block SG_IO map.
  const toFromLines: string[] = [];
  const toFrom = submitBatch(
    'TO_FROM_DEV (root, allow_dio=1)',
    (d) => [`open 0 ${d.sg} rw`, `open 1 ${d.disk} rw`],
    toFromLines,
    true,
  );
  const dirWord = { 'to-from-device': 'tofrom', 'from-device': 'from', 'to-device': 'to' } as const;
  const dirName = {
    'to-from-device': 'TO_FROM_DEV',
    'from-device': 'FROM_DEV',
    'to-device': 'TO_DEV',
  } as const;
  const toFromCase = (
    iface: 'sg' | 'block',
    direction: keyof typeof dirWord,
    length: number,
    data: { flags?: number; niov?: number; offset?: number; nullData?: boolean } = {},
  ) => {
    const { flags = 0, niov = 0, offset = 0, nullData = false } = data;
    const cdb = direction === 'to-device' ? write10At200(length) : READ_10_ONE;
    const where = nullData ? 'null' : niov > 0 ? 'iov' : offset === 0 ? 'arena' : `arena+${offset}`;
    toFromLines.push(
      `v3 ${iface === 'sg' ? 0 : 1} ioctl 0x53 10 ${cdb} ${dirWord[direction]} ${length} ${flags} ${niov} ${where}`,
    );
    const iovecList: UserIovec[] = nullData
      ? [{ address: 0, length }]
      : niov > 0
        ? iovecs(niov, length)
        : [{ address: ARENA_NOMINAL_BASE + offset, length }];
    const words = [
      iface === 'sg' ? 'sg' : 'disk',
      dirName[direction],
      `${length} bytes`,
      ...(niov > 0 ? [`in ${niov} iovecs`] : []),
      ...(nullData ? ['dxferp NULL'] : offset !== 0 ? [`at +${offset}`] : []),
      ...((flags & SG_FLAG_DIRECT_IO) !== 0 ? ['DIRECT_IO (allow_dio=1)'] : []),
      ...((flags & SG_FLAG_MMAP_IO) !== 0 ? ['MMAP_IO'] : []),
    ];
    addPlan(
      toFrom,
      toFromLines.length - 1,
      words.join(' '),
      {
        limits,
        iface,
        direction,
        iovecs: iovecList,
        vector: niov > 0,
        dxferLength: length,
        sg: {
          allowDio: true,
          directIo: (flags & SG_FLAG_DIRECT_IO) !== 0,
          mmapIo: (flags & SG_FLAG_MMAP_IO) !== 0,
        },
      },
      iface === 'sg'
        ? [
            'sg-to-from-dev-regression',
            'copy-rq-map-data',
            ...(nullData ? (['user-pages-fault'] as const) : []),
          ]
        : ['sg-to-from-dev-regression', 'copy-dma-alignment'],
      iface === 'sg' ? observeSg : observePlain,
    );
  };
  // Through the 32 KiB reserve, whole or in part; a private buffer larger than it; iovecs.
  for (const length of [512, 32768, 65536]) {
    for (const direction of ['to-from-device', 'from-device', 'to-device'] as const) {
      toFromCase('sg', direction, length);
    }
  }
  toFromCase('sg', 'to-from-device', 512, { niov: 2 });
  toFromCase('sg', 'from-device', 512, { niov: 2 });
  // Which stops the rounds first: max_segments (2048 x one segment of 12 bytes, EINVAL) or
  // the reserve's 8 pages (2048 x 16 bytes fill them exactly; ENOMEM is checked first).
  for (const length of [12, 14, 16]) toFromCase('sg', 'to-from-device', length);
  toFromCase('sg', 'from-device', 12);
  // Large private buffers: each round is one full bio (256 pages). Up to 9 MiB the pages run out
  // inside round 9, before its bio meets max_segments (ENOMEM, where FROM_DEV gets EINVAL above
  // 8 MiB); beyond, round 9 has pages left and its bio is refused (EINVAL).
  for (const length of [8 * MIB + 512, 9 * MIB, 9 * MIB + 512]) {
    toFromCase('sg', 'to-from-device', length);
    toFromCase('sg', 'from-device', length);
  }
  // SG_FLAG_MMAP_IO: the reserve, with a buffer to copy from or a NULL dxferp (EFAULT).
  toFromCase('sg', 'to-from-device', 512, { flags: SG_FLAG_MMAP_IO });
  toFromCase('sg', 'to-from-device', 512, { flags: SG_FLAG_MMAP_IO, nullData: true });
  toFromCase('sg', 'to-from-device', 512, { nullData: true });
  toFromCase('sg', 'from-device', 512, { flags: SG_FLAG_MMAP_IO, nullData: true });
  // Direct IO has no map_data; a misaligned buffer falls back to the reserve.
  toFromCase('sg', 'to-from-device', 512, { flags: SG_FLAG_DIRECT_IO });
  toFromCase('sg', 'to-from-device', 65536, { flags: SG_FLAG_DIRECT_IO });
  toFromCase('sg', 'to-from-device', 512, { flags: SG_FLAG_DIRECT_IO, offset: 1 });
  toFromCase('sg', 'to-from-device', 0);
  // Block SG_IO: blk_rq_map_user_io with map_data NULL, pinned or bounced.
  toFromCase('block', 'to-from-device', 512);
  toFromCase('block', 'to-from-device', 512, { offset: 1 });
  toFromCase('block', 'to-from-device', 65536, { niov: 2 });

  // The top of the user address space: MAX_RW_COUNT, access_ok, copy versus pinning.
  const max = maxRwCount();
  const odd = X86_64_TASK_SIZE_MAX - max - 1;
  const topLines: string[] = [];
  const top = submitBatch(
    'MAX_RW_COUNT (root)',
    (d) => [`open 0 ${d.bsg} rw`, `open 1 ${d.disk} rw`],
    topLines,
  );
  const topCase = (
    input: string,
    iface: 'bsg' | 'block',
    direction: 'from-device' | 'to-device',
    address: number,
    length: number,
    tests: readonly TransferRuleId[],
  ) => {
    const at = `0x${address.toString(16)}`;
    const cdb = direction === 'to-device' ? WRITE_10_EIGHT : READ_10_ONE;
    topLines.push(
      iface === 'bsg'
        ? direction === 'to-device'
          ? `v4 0 0x51 0 0 10 ${cdb} ${length} 0 0 0 ${at}`
          : `v4 0 0x51 0 0 10 ${cdb} 0 ${length} 0 0 ${at}`
        : `v3 1 ioctl 0x53 10 ${cdb} ${direction === 'to-device' ? 'to' : 'from'} ${length} 0 0 ${at}`,
    );
    addPlan(
      top,
      topLines.length - 1,
      input,
      {
        limits,
        iface,
        direction,
        iovecs: [{ address, length }],
        dxferLength: length,
        userPagesMapped: false,
      },
      tests,
      observePlain,
    );
  };
  topCase(
    'bsg READ 0xffffffff bytes at TASK_SIZE_MAX - MAX_RW_COUNT - 1 (cut, copied, max_segments)',
    'bsg',
    'from-device',
    odd,
    0xffff_ffff,
    ['max-rw-count', 'access-ok', 'copy-dma-alignment'],
  );
  topCase(
    'bsg READ 0xffffffff bytes two bytes higher (cut, still past TASK_SIZE_MAX)',
    'bsg',
    'from-device',
    odd + 2,
    0xffff_ffff,
    ['max-rw-count', 'access-ok'],
  );
  topCase(
    'bsg READ 16 KiB at TASK_SIZE_MAX - 8191',
    'bsg',
    'from-device',
    X86_64_TASK_SIZE_MAX - 8191,
    16384,
    ['max-rw-count', 'access-ok'],
  );
  topCase(
    'bsg READ MAX_RW_COUNT bytes, page-aligned, unmapped (pinned: fault)',
    'bsg',
    'from-device',
    odd - 4095,
    max,
    ['max-rw-count', 'access-ok', 'copy-dma-alignment', 'user-pages-fault'],
  );
  topCase(
    'bsg WRITE 4 KiB from an odd unmapped address (copied in: fault)',
    'bsg',
    'to-device',
    0x10_0001,
    4096,
    ['copy-dma-alignment', 'user-pages-fault'],
  );
  topCase(
    'disk READ 0xfffffc00 bytes at TASK_SIZE_MAX - MAX_RW_COUNT - 1 (cut, copied, max_segments)',
    'block',
    'from-device',
    odd,
    0xffff_fc00,
    ['max-rw-count', 'access-ok', 'user-pages-fault'],
  );

  // bsg ignores iovec counts: what the device really received.
  const hazard = submitBatch('bsg iovec hazard (root)', (d) => [`open 0 ${d.bsg} rw`, `open 1 ${d.sg} rw`], [
    'hazard-out 0 1 100',
    'hazard-in 0 1 101',
    'flat-out 0 1 102',
  ]);
  const nominal: UserIovec[] = [
    { address: ARENA_NOMINAL_BASE + 9 * MIB, length: 256 },
    { address: ARENA_NOMINAL_BASE + 9 * MIB + 65536, length: 256 },
  ];
  const hazardPlan = (direction: 'to-device' | 'from-device', iovecList: readonly UserIovec[]) =>
    planTransfer({
      limits,
      iface: 'bsg',
      direction,
      iovecs: iovecList,
      vector: true,
      iovecArrayAddress: ARENA_NOMINAL_BASE + 8 * MIB,
      dxferLength: 512,
    });
  const describeOut = (arrayHex: string, rest: 'memory' | 'other') =>
    `device received ${arrayHex} + ${rest === 'memory' ? 'the 480 bytes after the array' : 'other bytes'}`;
  const outPlan = hazardPlan('to-device', nominal);
  collect.add(
    hazard,
    0,
    {
      input: 'bsg WRITE 512 bytes, dout_iovec_count 2, dout_xferp = the iovec array',
      rules: credits(outPlan, ['bsg-ignores-iovec-count'], {
        limits,
        iface: 'bsg',
        direction: 'to-device',
        iovecs: nominal,
      }),
      predicted: describeOut(hex(outPlan.hazard?.arrayBytes ?? new Uint8Array()), 'memory'),
    },
    (line) => {
      const real = (line.iovecs as [number, number][]).map(([address, length]) => ({ address, length }));
      const bytes = hazardPlan('to-device', real).hazard?.arrayBytes ?? new Uint8Array();
      const device = Buffer.from(String(line.device), 'hex');
      const memory = Buffer.from(String(line.memory), 'hex');
      const rest = device.subarray(bytes.length).equals(memory.subarray(bytes.length)) ? 'memory' : 'other';
      return {
        predicted: describeOut(hex(bytes), 'memory'),
        observed:
          line.ret < 0
            ? (line.errno ?? 'EOTHER')
            : describeOut(device.subarray(0, bytes.length).toString('hex'), rest),
      };
    },
  );
  const inPlan = hazardPlan('from-device', nominal);
  collect.add(
    hazard,
    1,
    {
      input: 'bsg READ 512 bytes, din_iovec_count 2, din_xferp = the iovec array',
      rules: credits(inPlan, ['bsg-ignores-iovec-count'], {
        limits,
        iface: 'bsg',
        direction: 'from-device',
        iovecs: nominal,
      }),
      predicted: inPlan.hazard
        ? 'the array and the bytes after it got the data; the buffers nothing'
        : 'the buffers got the data',
    },
    (line) => {
      if (line.ret < 0) return { observed: line.errno ?? 'EOTHER' };
      const region = String(line.region);
      const untouched = /^(11)+$/.test(String(line.buffer1)) && /^(22)+$/.test(String(line.buffer2));
      return {
        observed:
          region === String(line.device) && untouched
            ? 'the array and the bytes after it got the data; the buffers nothing'
            : `region ${region.slice(0, 32)}..., buffers ${untouched ? 'untouched' : 'written'}`,
      };
    },
  );
  const flatPlan = planTransfer({
    limits,
    iface: 'bsg',
    direction: 'to-device',
    iovecs: [{ address: ARENA_NOMINAL_BASE + 9 * MIB, length: 512 }],
  });
  collect.add(
    hazard,
    2,
    {
      input: 'bsg WRITE 512 bytes from a flat buffer (no iovec count)',
      rules: credits(flatPlan, ['bsg-ignores-iovec-count'], {
        limits,
        iface: 'bsg',
        direction: 'to-device',
        iovecs: [{ address: 0, length: 512 }],
      }),
      predicted: flatPlan.hazard ? 'device received the iovec array' : 'device received the buffer',
    },
    (line) => ({
      observed:
        line.ret < 0
          ? (line.errno ?? 'EOTHER')
          : line.device === line.memory
            ? 'device received the buffer'
            : 'device received other bytes',
    }),
  );
  return collect.cases;
}

/** The `transfer` area. */
export const transferArea: ConformanceArea<BatchedProbe> = {
  name: 'transfer',
  title: 'data transfer plans (planTransfer)',
  rules: RULES,
  plan,
  run: runBatchedCases,
};
