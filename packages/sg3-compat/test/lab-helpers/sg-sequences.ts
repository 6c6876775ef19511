/**
 * Random call sequences on sg file descriptors for the model-based lab tests: a fast-check
 * arbitrary of sequences, the probe script of a sequence, a run of the same sequence on a
 * model (anything implementing {@link SgSequenceSubject}), and the step-by-step comparison of
 * the model's outcomes with the real driver's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  OsError,
  parseSysfsQueueLimits,
  type ScsiResponse,
  type SgEnvironment,
  SYSFS_QUEUE_LIMIT_FILES,
} from '@sgv4/core';
import fc from 'fast-check';
import {
  decodeSgIoHdr,
  decodeSgRequestTable,
  SG_FLAG_DIRECT_IO,
  SG_FLAG_MMAP_IO,
  SG_FLAG_Q_AT_TAIL,
  SG_IO_HDR_OUTPUTS,
  type SgAbi,
  SgFdModel,
  type SgRequestSlot,
  type SgV3Result,
} from '../../src/index.js';
import {
  bytesOf,
  callLine,
  type ProbeCall,
  type ProbeCommand,
  type ProbeLine,
  probeCdb,
  probeHeader,
} from './sg-v3-probe.js';

/** One call of a sequence. Slots 0 and 1 are two fds of the same device. */
export type SgOp =
  | {
      readonly op: 'open';
      readonly slot: number;
      readonly mode: 'rw' | 'ro' | 'wo';
      readonly nonBlocking: boolean;
    }
  | { readonly op: 'close'; readonly slot: number }
  | {
      readonly op: 'write' | 'sgio';
      readonly slot: number;
      readonly call: ProbeCall;
      /** write: do not wait for completion. */
      readonly noSettle?: boolean;
      /** sgio: a signal interrupts the wait after 200 ms (the request must still be in flight then). */
      readonly interrupt?: boolean;
    }
  | { readonly op: 'settle'; readonly slot: number }
  | { readonly op: 'read'; readonly slot: number; readonly packId: number; readonly count: number }
  | { readonly op: 'poll' | 'table'; readonly slot: number }
  | { readonly op: 'get'; readonly slot: number; readonly name: SgGetName }
  | { readonly op: 'set'; readonly slot: number; readonly name: SgSetName; readonly value: number }
  | { readonly op: 'mmap'; readonly slot: number; readonly length: number; readonly pageOffset: number };

/** The SG_GET_* ioctls compared. */
export type SgGetName =
  | 'NUM_WAITING'
  | 'PACK_ID'
  | 'COMMAND_Q'
  | 'RESERVED_SIZE'
  | 'KEEP_ORPHAN'
  | 'TIMEOUT'
  | 'VERSION_NUM'
  | 'SG_TABLESIZE';
/** The SG_SET_* ioctls compared. */
export type SgSetName =
  | 'FORCE_PACK_ID'
  | 'COMMAND_Q'
  | 'RESERVED_SIZE'
  | 'KEEP_ORPHAN'
  | 'TIMEOUT'
  | 'NEXT_CMD_LEN';

/** What one call did, in a form both sides produce. */
export interface SgOutcome {
  readonly errno: string | null;
  /** poll revents, an ioctl's value. */
  readonly value?: number;
  /** A reply's pack_id, usr_ptr and outputs (duration left out). */
  readonly reply?: {
    readonly packId: number;
    readonly usrPtr: string;
    readonly result: Omit<SgV3Result, 'duration'>;
  };
  /** The request table without durations. */
  readonly table?: readonly (readonly number[] | string)[];
}

const KINDS: readonly ProbeCommand[] = ['tur', 'read', 'inq', 'oob', 'bad', 'wr'];
/** The natural direction of each command (a sequence also uses other ones). */
const NATURAL_DIR: Readonly<Record<ProbeCommand, number>> = {
  tur: -1,
  read: -3,
  inq: -3,
  oob: -3,
  bad: -1,
  wr: -2,
};

const callArb: fc.Arbitrary<ProbeCall> = fc
  .record({
    kind: fc.constantFrom(...KINDS),
    otherDir: fc.option(fc.constantFrom(-1, -2, -3, -4, -5), { freq: 5 }),
    len: fc.constantFrom(0, 512, 4096, 4096, 32768, 40960, 65536),
    packId: fc.integer({ min: -1, max: 4 }),
    flags: fc.subarray([SG_FLAG_DIRECT_IO, SG_FLAG_MMAP_IO, SG_FLAG_Q_AT_TAIL]),
    mx: fc.constantFrom(0, 8, 32, 96),
    niov: fc.constantFrom(0, 0, 2),
    count: fc.constantFrom(88, 88, 88, 88, 64, 35, 100),
    cmdLen: fc.constantFrom(0, 0, 0, 0, 0, 0, 5, 40),
    iface: fc.constantFrom(0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x51),
  })
  .map((r) => {
    let len: number = r.kind === 'tur' || r.kind === 'bad' ? (r.len === 0 ? 0 : 512) : r.len;
    if (r.kind === 'inq') len = Math.min(len, 255);
    const dir = r.otherDir ?? NATURAL_DIR[r.kind];
    if (dir === -1 && r.otherDir === null) len = 0;
    const flags = r.flags.reduce((a, b) => a | b, 0);
    return {
      kind: r.kind,
      dir,
      len,
      packId: r.packId,
      flags,
      mx: r.mx,
      niov: (flags & SG_FLAG_MMAP_IO) !== 0 ? 0 : r.niov,
      count: r.count,
      iface: r.iface,
      cmdLen: r.cmdLen,
    };
  });

const slotArb = fc.constantFrom(0, 0, 0, 1);

const opArb: fc.Arbitrary<SgOp> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('write' as const), slot: slotArb, call: callArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('sgio' as const), slot: slotArb, call: callArb }) },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('read' as const),
      slot: slotArb,
      packId: fc.integer({ min: -1, max: 4 }),
      count: fc.constantFrom(0, 0, 0, 88, 63),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constantFrom('poll' as const, 'table' as const), slot: slotArb }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('get' as const),
      slot: slotArb,
      name: fc.constantFrom<SgGetName>(
        'NUM_WAITING',
        'PACK_ID',
        'COMMAND_Q',
        'RESERVED_SIZE',
        'KEEP_ORPHAN',
        'TIMEOUT',
        'VERSION_NUM',
        'SG_TABLESIZE',
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.record({
        op: fc.constant('set' as const),
        slot: slotArb,
        name: fc.constant<SgSetName>('FORCE_PACK_ID'),
        value: fc.constantFrom(0, 1),
      }),
      fc.record({
        op: fc.constant('set' as const),
        slot: slotArb,
        name: fc.constant<SgSetName>('COMMAND_Q'),
        value: fc.constantFrom(0, 1),
      }),
      fc.record({
        op: fc.constant('set' as const),
        slot: slotArb,
        name: fc.constant<SgSetName>('RESERVED_SIZE'),
        value: fc.constantFrom(-1, 0, 1000, 4096, 32768, 65536, 100000, 1 << 20),
      }),
      fc.record({
        op: fc.constant('set' as const),
        slot: slotArb,
        name: fc.constant<SgSetName>('KEEP_ORPHAN'),
        value: fc.constantFrom(0, 1, 255),
      }),
      fc.record({
        op: fc.constant('set' as const),
        slot: slotArb,
        name: fc.constant<SgSetName>('TIMEOUT'),
        value: fc.constantFrom(-1, 0, 100, 2_000_000_000),
      }),
      fc.record({
        op: fc.constant('set' as const),
        slot: slotArb,
        name: fc.constant<SgSetName>('NEXT_CMD_LEN'),
        value: fc.constantFrom(0, 12, 253),
      }),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('mmap' as const),
      slot: slotArb,
      length: fc.constantFrom(4096, 32768, 65536, 65537),
      pageOffset: fc.constantFrom(0, 0, 0, 1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('open' as const),
      slot: slotArb,
      mode: fc.constantFrom<'rw' | 'ro' | 'wo'>('rw', 'rw', 'rw', 'ro', 'wo'),
      nonBlocking: fc.boolean(),
    }),
  },
);

/** 6..17 back-to-back writes on one fd: reaches the 16-request queue (EDOM, no POLLOUT). */
const burstArb: fc.Arbitrary<SgOp[]> = fc
  .record({ slot: slotArb, calls: fc.array(callArb, { minLength: 6, maxLength: 17 }) })
  .map(({ slot, calls }) =>
    calls.map((call) => ({
      op: 'write' as const,
      slot,
      call: { ...call, count: 88, iface: 0x53, cmdLen: 0 },
    })),
  );

/** A sequence: both fds opened (O_RDWR, slot 1 non-blocking), then 5..30 random calls. */
export const sequenceArb: fc.Arbitrary<readonly SgOp[]> = fc
  .array(fc.oneof({ weight: 12, arbitrary: opArb.map((op) => [op]) }, { weight: 1, arbitrary: burstArb }), {
    minLength: 5,
    maxLength: 30,
  })
  .map((groups) => [
    { op: 'open', slot: 0, mode: 'rw', nonBlocking: false } as const,
    { op: 'open', slot: 1, mode: 'rw', nonBlocking: true } as const,
    ...groups.flat(),
  ]);

/** The probe lines of one op (a write is followed by a settle, so it has completed when observed). */
export function probeLines(op: SgOp): string[] {
  switch (op.op) {
    case 'open':
      return [`open ${op.slot} ${op.mode} ${op.nonBlocking ? 1 : 0}`];
    case 'close':
    case 'poll':
    case 'table':
    case 'settle':
      return [`${op.op} ${op.slot}`];
    case 'write':
      return op.noSettle
        ? [callLine('write', op.slot, op.call)]
        : [callLine('write', op.slot, op.call), `settle ${op.slot}`];
    case 'sgio':
      return [callLine(op.interrupt ? 'sgioint' : 'sgio', op.slot, op.call)];
    case 'read':
      return [`read ${op.slot} ${op.packId} ${op.count}`];
    case 'get':
      return [`get ${op.slot} ${op.name}`];
    case 'set':
      return [`set ${op.slot} ${op.name} ${op.value}`];
    case 'mmap':
      return [`mmap ${op.slot} ${op.length} ${op.pageOffset}`];
  }
}

/** The outcome the probe reported for an op (its first line; a write's settle is not compared). */
export function kernelOutcome(op: SgOp, line: ProbeLine, abi: SgAbi): SgOutcome {
  const errno = line.errno;
  if (errno !== null) return { errno };
  switch (op.op) {
    case 'poll':
    case 'get':
      return { errno, value: line.value ?? 0 };
    case 'sgio':
    case 'read': {
      const h = decodeSgIoHdr(bytesOf(line.hdr), abi);
      return { errno, reply: replyOf(h.packId, h.usrPtr, h) };
    }
    case 'table':
      return {
        errno,
        table: decodeSgRequestTable(bytesOf(line.bytes), abi).map((e) => [
          e.reqState,
          e.orphan,
          e.sgIoOwned,
          e.problem,
          e.packId,
          Number(e.usrPtr),
        ]),
      };
    default:
      return { errno };
  }
}

/** A reply as both sides report it: pack_id, usr_ptr and the outputs but duration. */
export function replyOf(
  packId: number,
  usrPtr: bigint,
  r: Omit<SgV3Result, 'duration'> & { duration?: number },
): SgOutcome['reply'] {
  const result: Record<string, number> = {};
  for (const k of SG_IO_HDR_OUTPUTS) if (k !== 'duration') result[k] = r[k];
  return { packId, usrPtr: usrPtr.toString(16), result: result as unknown as Omit<SgV3Result, 'duration'> };
}

/** The device's queue limits from sysfs (seg_boundary_mask, absent there, is scsi_debug's PAGE_SIZE - 1). */
export function labEnvironment(disk: string): SgEnvironment {
  const queueDir = join('/sys/block', disk.replace('/dev/', ''), 'queue');
  const files: Record<string, string> = {};
  for (const file of SYSFS_QUEUE_LIMIT_FILES) {
    const path = join(queueDir, file);
    if (existsSync(path)) files[file] = readFileSync(path, 'utf8');
  }
  return { limits: parseSysfsQueueLimits(files, { segBoundaryMask: 4095 }).limits };
}

/** The responses the device gives, keyed by call (a model completes requests with them). */
export type ResponseOf = (call: ProbeCall) => ScsiResponse;

/** The key {@link ResponseOf} implementations use: command, direction and length. */
export function responseKey(call: ProbeCall): string {
  return `${call.kind} ${call.dir} ${call.len}`;
}

function errnoOf(error: unknown): string {
  if (error instanceof OsError) return error.code;
  throw error;
}

/**
 * Runs a sequence on fresh SgFdModels the way the probe runs it on the driver, and returns
 * one outcome per op. A blocking read() the model says would wait for good is left out of the
 * sequence (returned as `skip`), since the kernel would wait for good too. Submissions are
 * numbered from `firstSeq` (the probe numbers them across the sequences it runs).
 */
export function runOnModel(
  ops: readonly SgOp[],
  abi: SgAbi,
  env: SgEnvironment,
  responseOf: ResponseOf,
  firstSeq = 0,
): { outcomes: (SgOutcome | 'skip')[]; nextSeq: number } {
  const fds = new Map<number, SgFdModel>();
  let seq = firstSeq;
  let now = 0;
  const outcomes: (SgOutcome | 'skip')[] = [];
  const calls = new Map<SgRequestSlot, ProbeCall>();
  for (const op of ops) {
    now += 1;
    if (op.op === 'open') {
      fds.set(
        op.slot,
        new SgFdModel({
          env,
          openMode: op.mode === 'rw' ? 'read-write' : op.mode === 'ro' ? 'read-only' : 'write-only',
          nonBlocking: op.nonBlocking,
          // The probe runs as root: CAP_SYS_RAWIO lets every command through the filter.
          capSysRawio: true,
        }),
      );
      outcomes.push({ errno: null });
      continue;
    }
    const m = fds.get(op.slot);
    if (m === undefined) throw new Error(`slot ${op.slot} is not open`);
    try {
      switch (op.op) {
        case 'close':
          m.close();
          fds.delete(op.slot);
          outcomes.push({ errno: null });
          break;
        case 'write':
        case 'sgio': {
          const index = seq++;
          const { hdr } = probeHeader(op.call, index, abi);
          const slot = m.admit(hdr, {
            via: op.op === 'write' ? 'write' : 'SG_IO',
            count: op.call.count || undefined,
            abi,
            nowMs: now,
          });
          m.permit(slot, probeCdb(op.call.kind, op.call.len));
          m.start(slot);
          calls.set(slot, op.call);
          if (op.op === 'write') {
            // The probe settles after a write (unless told not to): every request of the fd completes.
            if (!op.noSettle)
              for (const r of m.requests) if (r.done === 0) m.complete(r, responseOf(calls.get(r)!), now);
            outcomes.push({ errno: null });
          } else if (op.interrupt) {
            // SG_IO's wait was interrupted (ERESTARTSYS -> EINTR): the request is an orphan.
            m.orphan(slot);
            outcomes.push({ errno: 'EINTR' });
          } else {
            m.complete(slot, responseOf(op.call), now);
            const reply = m.reply(slot);
            m.finishRead(slot, abi === 'lp64' ? 88 : 64, abi);
            outcomes.push({ errno: null, reply: replyOf(hdr.packId, hdr.usrPtr, reply.result) });
          }
          break;
        }
        case 'read': {
          const slot = m.beginRead(op.packId);
          if (slot === undefined) {
            outcomes.push('skip');
            break;
          }
          const reply = m.reply(slot);
          const count = op.count === 0 ? (abi === 'lp64' ? 88 : 64) : op.count;
          m.finishRead(slot, count, abi);
          outcomes.push({
            errno: null,
            reply: replyOf(slot.header.packId, slot.header.usrPtr, reply.result),
          });
          break;
        }
        case 'poll':
          outcomes.push({ errno: null, value: m.poll() });
          break;
        case 'settle':
          for (const r of m.requests) if (r.done === 0) m.complete(r, responseOf(calls.get(r)!), now);
          outcomes.push({ errno: null });
          break;
        case 'table':
          outcomes.push({
            errno: null,
            table: m
              .requestTable(now)
              .map((e) => [e.reqState, e.orphan, e.sgIoOwned, e.problem, e.packId, Number(e.usrPtr)]),
          });
          break;
        case 'get':
          outcomes.push({ errno: null, value: getValue(m, op.name) });
          break;
        case 'set':
          setValue(m, op.name, op.value);
          outcomes.push({ errno: null });
          break;
        case 'mmap':
          m.mmap(op.length, op.pageOffset);
          outcomes.push({ errno: null });
          break;
      }
    } catch (error) {
      outcomes.push({ errno: errnoOf(error) });
    }
  }
  return { outcomes, nextSeq: seq };
}

function getValue(m: SgFdModel, name: SgGetName): number {
  switch (name) {
    case 'NUM_WAITING':
      return m.numWaiting();
    case 'PACK_ID':
      return m.packIdOfFirstReply();
    case 'COMMAND_Q':
      return m.commandQueueing ? 1 : 0;
    case 'RESERVED_SIZE':
      return m.getReservedSize();
    case 'KEEP_ORPHAN':
      return m.getKeepOrphan();
    case 'TIMEOUT':
      return m.getTimeout();
    case 'VERSION_NUM':
      return m.getVersionNum();
    case 'SG_TABLESIZE':
      return m.getSgTablesize();
  }
}

function setValue(m: SgFdModel, name: SgSetName, value: number): void {
  switch (name) {
    case 'FORCE_PACK_ID':
      m.setForcePackId(value);
      return;
    case 'COMMAND_Q':
      m.setCommandQueueing(value);
      return;
    case 'RESERVED_SIZE':
      m.setReservedSize(value);
      return;
    case 'KEEP_ORPHAN':
      m.setKeepOrphan(value);
      return;
    case 'TIMEOUT':
      m.setTimeout(value);
      return;
    case 'NEXT_CMD_LEN':
      m.setNextCommandLength(value);
      return;
  }
}
