/**
 * Validation of logical unit options and run-time knobs: every bad value is an
 * InvalidFieldError naming the field and the rule, before anything is created.
 * @module
 */
import {
  InvalidFieldError,
  type QueueLimits,
  queueLimitsPreset,
  queueLimitsViolations,
  setLogicalBlockSize,
} from '@sgv4/core';
import type {
  Backing,
  EveryNthFault,
  FaultSpec,
  LatencySpec,
  LogicalUnitKnobs,
  LogicalUnitOptions,
  MediumErrorRange,
} from '../api/types.js';

/** Largest LUN of the single-level peripheral/flat addressing the target uses (SAM-6 4.7.x: 14-bit flat space). */
export const MAX_LUN = 16383n;

/** Default capacity: 64 MiB. */
export const DEFAULT_SIZE_BYTES = 64n << 20n;

/** Default task set size. */
export const DEFAULT_QUEUE_DEPTH = 64;

/** Resolved medium error range. */
export interface MediumErrorSpan {
  /** First bad LBA. */
  readonly lba: number;
  /** One past the last bad LBA. */
  readonly end: number;
  /** Which accesses fail. */
  readonly on: 'read' | 'write' | 'both';
}

/** Resolved faults. */
export interface ResolvedFaults {
  /** Bad LBA ranges. */
  readonly mediumErrors: readonly MediumErrorSpan[];
  /** Every-nth fault. */
  readonly everyNth: EveryNthFault | undefined;
  /** NOT READY condition. */
  readonly notReady: FaultSpec['notReady'];
}

/** Resolved latency. */
export interface ResolvedLatency {
  /** Fixed part. */
  readonly nanoseconds: number;
  /** Jitter. */
  readonly jitterNanoseconds: number;
}

/** Everything a logical unit is created with, validated. */
export interface LogicalUnitSettings {
  /** LUN. */
  readonly lun: bigint;
  /** Backing. */
  readonly backing: Backing;
  /** Logical block size. */
  readonly blockSize: 512 | 4096;
  /** Capacity in blocks (undefined: a file backing's existing size). */
  readonly capacityBlocks: number | undefined;
  /** Thin provisioning. */
  readonly thinProvisioning: boolean;
  /** Queue limits. */
  readonly queueLimits: QueueLimits;
  /** Serial number (VPD 0x80). */
  readonly serialNumber: string | undefined;
  /** Power-on unit attention. */
  readonly powerOnUnitAttention: boolean;
  /** Run-time knobs. */
  readonly knobs: ResolvedKnobs;
}

/** Resolved run-time knobs. */
export interface ResolvedKnobs {
  /** Latency. */
  readonly latency: ResolvedLatency;
  /** Faults. */
  readonly faults: ResolvedFaults;
  /** Task set size. */
  readonly queueDepth: number;
  /** Tasks processed at once. */
  readonly concurrency: number;
  /** Hardware write protect. */
  readonly writeProtected: boolean;
}

function positiveInteger(field: string, v: unknown, max = 0x7fff_ffff): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)
    throw new InvalidFieldError(field, `must be an integer in 1..${max}`, v);
  return v;
}

function nonNegativeNumber(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new InvalidFieldError(field, 'must be a finite number >= 0', v);
  return v;
}

/** A non-negative safe integer from a number or bigint. */
export function toSafeInteger(field: string, v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v === 'bigint') {
    if (v < 0n || v > BigInt(max)) throw new InvalidFieldError(field, `must be an integer in 0..${max}`, v);
    return Number(v);
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max)
    throw new InvalidFieldError(field, `must be an integer in 0..${max}`, v);
  return v;
}

function resolveLatency(field: string, l: LatencySpec | undefined): ResolvedLatency {
  if (l === undefined) return { nanoseconds: 0, jitterNanoseconds: 0 };
  if (l === null || typeof l !== 'object')
    throw new InvalidFieldError(field, 'must be { nanoseconds, jitterNanoseconds? }', l);
  return {
    nanoseconds: nonNegativeNumber(`${field}.nanoseconds`, l.nanoseconds),
    jitterNanoseconds: nonNegativeNumber(`${field}.jitterNanoseconds`, l.jitterNanoseconds ?? 0),
  };
}

function resolveFaults(field: string, f: FaultSpec | undefined): ResolvedFaults {
  if (f === undefined) return { mediumErrors: [], everyNth: undefined, notReady: false };
  const mediumErrors = (f.mediumErrors ?? []).map((r: MediumErrorRange, i): MediumErrorSpan => {
    const lba = toSafeInteger(`${field}.mediumErrors[${i}].lba`, r.lba);
    const count = r.count === undefined ? 1 : positiveInteger(`${field}.mediumErrors[${i}].count`, r.count);
    const on = r.on ?? 'read';
    if (on !== 'read' && on !== 'write' && on !== 'both')
      throw new InvalidFieldError(`${field}.mediumErrors[${i}].on`, "must be 'read', 'write' or 'both'", on);
    return { lba, end: lba + count, on };
  });
  let everyNth: EveryNthFault | undefined;
  if (f.everyNth !== undefined) {
    const n = positiveInteger(`${field}.everyNth.n`, f.everyNth.n);
    const action = f.everyNth.action;
    if (action !== 'timeout' && action !== 'aborted-command' && action !== 'busy')
      throw new InvalidFieldError(
        `${field}.everyNth.action`,
        "must be 'timeout', 'aborted-command' or 'busy'",
        action,
      );
    everyNth = { n, action };
  }
  const notReady = f.notReady ?? false;
  if (
    notReady !== false &&
    notReady !== 'becoming-ready' &&
    notReady !== 'start-required' &&
    notReady !== 'no-medium'
  )
    throw new InvalidFieldError(
      `${field}.notReady`,
      "must be false, 'becoming-ready', 'start-required' or 'no-medium'",
      notReady,
    );
  return { mediumErrors, everyNth, notReady };
}

/** Applies `knobs` over `base` (fields absent from `knobs` keep their value). */
export function resolveKnobs(field: string, knobs: LogicalUnitKnobs, base?: ResolvedKnobs): ResolvedKnobs {
  const queueDepth =
    knobs.queueDepth === undefined
      ? (base?.queueDepth ?? DEFAULT_QUEUE_DEPTH)
      : positiveInteger(`${field}.queueDepth`, knobs.queueDepth, 65535);
  // Concurrency follows the queue depth unless it was set on its own.
  const tracking = base === undefined || base.concurrency === base.queueDepth;
  const concurrency =
    knobs.concurrency === undefined
      ? tracking
        ? queueDepth
        : base.concurrency
      : positiveInteger(`${field}.concurrency`, knobs.concurrency, 65535);
  if (knobs.writeProtected !== undefined && typeof knobs.writeProtected !== 'boolean')
    throw new InvalidFieldError(`${field}.writeProtected`, 'must be a boolean', knobs.writeProtected);
  return {
    latency:
      knobs.latency === undefined && base ? base.latency : resolveLatency(`${field}.latency`, knobs.latency),
    faults: knobs.faults === undefined && base ? base.faults : resolveFaults(`${field}.faults`, knobs.faults),
    queueDepth,
    concurrency,
    writeProtected: knobs.writeProtected ?? base?.writeProtected ?? false,
  };
}

/** Validates one logical unit's options (`index` is its position, the default LUN). */
export function resolveLogicalUnitOptions(options: LogicalUnitOptions, index: number): LogicalUnitSettings {
  const field = `logicalUnits[${index}]`;
  if (options === null || typeof options !== 'object')
    throw new InvalidFieldError(field, 'must be an object', options);
  const lunValue = options.lun ?? index;
  const lun = BigInt(toSafeInteger(`${field}.lun`, lunValue, Number(MAX_LUN)));
  const blockSize = options.blockSize ?? 512;
  if (blockSize !== 512 && blockSize !== 4096)
    throw new InvalidFieldError(`${field}.blockSize`, 'must be 512 or 4096', blockSize);
  const backing: Backing = options.backing ?? { kind: 'memory' };
  if (backing.kind === 'file') {
    if (typeof backing.path !== 'string' || backing.path.length === 0)
      throw new InvalidFieldError(`${field}.backing.path`, 'must be a non-empty path', backing.path);
  } else if (backing.kind !== 'memory') {
    throw new InvalidFieldError(
      `${field}.backing.kind`,
      "must be 'memory' or 'file'",
      (backing as { kind: unknown }).kind,
    );
  }
  if (options.capacityBlocks !== undefined && options.sizeBytes !== undefined)
    throw new InvalidFieldError(
      `${field}.sizeBytes`,
      'must not be given together with capacityBlocks',
      options.sizeBytes,
    );
  let capacityBlocks: number | undefined;
  if (options.capacityBlocks !== undefined) {
    capacityBlocks = toSafeInteger(`${field}.capacityBlocks`, options.capacityBlocks);
  } else if (options.sizeBytes !== undefined) {
    const bytes = toSafeInteger(`${field}.sizeBytes`, options.sizeBytes);
    if (bytes % blockSize !== 0)
      throw new InvalidFieldError(
        `${field}.sizeBytes`,
        `must be a multiple of the block size (${blockSize})`,
        options.sizeBytes,
      );
    capacityBlocks = bytes / blockSize;
  } else if (backing.kind === 'memory') {
    capacityBlocks = Number(DEFAULT_SIZE_BYTES) / blockSize;
  }
  if (capacityBlocks !== undefined && capacityBlocks < 1)
    throw new InvalidFieldError(`${field}.capacityBlocks`, 'must be at least 1 block', capacityBlocks);
  let queueLimits =
    options.queueLimits ?? setLogicalBlockSize(queueLimitsPreset('scsi-debug').limits, blockSize);
  if (options.queueLimits !== undefined) {
    const bad = queueLimitsViolations(options.queueLimits);
    if (bad.length > 0) throw bad[0] as InvalidFieldError;
    if (options.queueLimits.logicalBlockSize !== blockSize)
      throw new InvalidFieldError(
        `${field}.queueLimits.logicalBlockSize`,
        `must equal blockSize (${blockSize})`,
        options.queueLimits.logicalBlockSize,
      );
  }
  queueLimits = Object.freeze({ ...queueLimits });
  if (options.serialNumber !== undefined && !/^[\x20-\x7e]{1,32}$/.test(options.serialNumber))
    throw new InvalidFieldError(
      `${field}.serialNumber`,
      'must be 1..32 printable ASCII characters',
      options.serialNumber,
    );
  return {
    lun,
    backing,
    blockSize,
    capacityBlocks,
    thinProvisioning: options.thinProvisioning ?? true,
    queueLimits,
    serialNumber: options.serialNumber,
    powerOnUnitAttention: options.powerOnUnitAttention ?? true,
    knobs: resolveKnobs(field, options),
  };
}
