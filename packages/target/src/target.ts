/**
 * The embedded SCSI target: logical units behind one or more target ports, reached through
 * I_T nexuses. `execute()` runs a command (a task) and resolves with its response;
 * `manage()` runs a task management function. Both are asynchronous and concurrent: tasks
 * overlap, ordering follows the task attributes, latency comes from timers, and with zero
 * latency on memory backing everything completes in arrival order (deterministic).
 * @module
 */
import {
  encodeSense,
  InvalidFieldError,
  ScsiStatus,
  SenseKey,
  TaskAttribute,
  TaskManagementFunction,
  TmfResponse,
  tmfResponseName,
} from '@sgv4/core';
import type {
  Backing,
  ITNexus,
  LogicalUnitKnobs,
  LogicalUnitOptions,
  TargetEvents,
  TargetOptions,
  TaskRequest,
  TaskResponse,
  TmfRequest,
  TmfResult,
} from './api/types.js';
import type { TargetView } from './commands/command-context.js';
import { standardInquiry } from './commands/inquiry.js';
import { reportLunsData, requestSenseNoLun } from './commands/unit.js';
import { TargetEventEmitter } from './events.js';
import { LatencyClock } from './faults/latency-clock.js';
import { LogicalUnit } from './logical-unit/logical-unit.js';
import { MAX_LUN, resolveLogicalUnitOptions, toSafeInteger } from './logical-unit/lu-config.js';
import { type NexusInfo, NexusRegistry } from './nexus.js';
import { Asc } from './sense/additional-sense.js';
import { FileBlockStore } from './storage/file-store.js';
import { MemoryBlockStore } from './storage/memory-store.js';
import { TransferCheck } from './transfer/transfer-check.js';

/** What `describe()` reports about a logical unit. */
export interface LogicalUnitInfo {
  /** LUN. */
  readonly lun: bigint;
  /** Logical block size. */
  readonly blockSize: number;
  /** Capacity in blocks. */
  readonly capacityBlocks: bigint;
  /** QueueLimits. */
  readonly queueLimits: LogicalUnit['queueLimits'];
  /** Task set size. */
  readonly queueDepth: number;
  /** Tasks processed at once. */
  readonly concurrency: number;
  /** Thin provisioned. */
  readonly thinProvisioning: boolean;
  /** Backing. */
  readonly backing: Backing;
  /** Tasks in the task set now. */
  readonly outstanding: number;
  /** Unit serial number. */
  readonly serialNumber: string;
}

const ATTRIBUTES: ReadonlySet<string> = new Set(Object.values(TaskAttribute));
const TMFS: ReadonlySet<string> = new Set(Object.values(TaskManagementFunction));
const EMPTY = new Uint8Array(0);
const MAX_TAG = (1n << 64n) - 1n;

function toLun(field: string, v: unknown): bigint {
  return BigInt(toSafeInteger(field, v, Number(MAX_LUN)));
}

function toTag(field: string, v: unknown): bigint {
  let t: bigint;
  if (typeof v === 'bigint') t = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) t = BigInt(v);
  else throw new InvalidFieldError(field, 'must be an integer in 0..2^64-1', v);
  if (t < 0n || t > MAX_TAG) throw new InvalidFieldError(field, 'must be an integer in 0..2^64-1', v);
  return t;
}

async function openStore(settings: ReturnType<typeof resolveLogicalUnitOptions>) {
  if (settings.backing.kind === 'file') {
    const store = await FileBlockStore.open(
      settings.backing.path,
      settings.blockSize,
      settings.capacityBlocks,
    );
    if (store.blocks < 1) {
      await store.close();
      throw new InvalidFieldError(
        'backing.path',
        'must name an image of at least one block, or give capacityBlocks / sizeBytes',
        settings.backing.path,
      );
    }
    return { store, capacity: store.blocks };
  }
  const capacity = settings.capacityBlocks as number;
  return { store: new MemoryBlockStore(settings.blockSize, capacity), capacity };
}

/** Creates a target and opens its logical units' stores. */
export async function createTarget(options: TargetOptions): Promise<ScsiTarget> {
  return ScsiTarget.create(options);
}

/** An embedded SCSI target. Create it with {@link createTarget}. */
export class ScsiTarget {
  /** Target name. */
  readonly name: string;
  readonly #view: TargetView;
  readonly #nexuses: NexusRegistry;
  readonly #units = new Map<bigint, LogicalUnit>();
  readonly #checks = new Map<bigint, TransferCheck>();
  readonly #events = new TargetEventEmitter();
  readonly #clock = new LatencyClock();
  #luns: readonly bigint[] = [];
  #closed = false;

  private constructor(options: TargetOptions) {
    const name = options.name ?? 'sgv4-target';
    if (typeof name !== 'string' || name.length === 0)
      throw new InvalidFieldError('name', 'must be a non-empty string', name);
    const ascii = (field: string, v: string | undefined, fallback: string, max: number): string => {
      const s = v ?? fallback;
      if (typeof s !== 'string' || !/^[\x20-\x7e]*$/.test(s) || s.length > max)
        throw new InvalidFieldError(field, `must be at most ${max} printable ASCII characters`, s);
      return s;
    };
    const ports = options.ports ?? [`${name},t,0x0001`];
    if (
      !Array.isArray(ports) ||
      ports.length === 0 ||
      ports.some((p) => typeof p !== 'string' || p.length === 0)
    )
      throw new InvalidFieldError('ports', 'must be a non-empty array of non-empty names', ports);
    if (new Set(ports).size !== ports.length)
      throw new InvalidFieldError('ports', 'must not repeat a name', ports);
    const protocol = options.protocol ?? 'sas';
    if (protocol !== 'sas' && protocol !== 'iscsi')
      throw new InvalidFieldError('protocol', "must be 'sas' or 'iscsi'", protocol);
    this.name = name;
    this.#nexuses = new NexusRegistry(ports);
    const target = this;
    this.#view = {
      name,
      vendor: ascii('vendor', options.vendor, 'SGV4', 8),
      product: ascii('product', options.product, 'EMBEDDED DISK', 16),
      revision: ascii('revision', options.revision, '0001', 4),
      ports,
      protocol,
      get luns() {
        return target.#luns;
      },
    };
  }

  /** Use {@link createTarget}. */
  static async create(options: TargetOptions): Promise<ScsiTarget> {
    if (options === null || typeof options !== 'object')
      throw new InvalidFieldError('options', 'must be an object', options);
    const target = new ScsiTarget(options);
    const list = options.logicalUnits;
    if (!Array.isArray(list) || list.length === 0)
      throw new InvalidFieldError('logicalUnits', 'must list at least one logical unit', list);
    const settings = list.map((o, i) => resolveLogicalUnitOptions(o, i));
    const luns = new Set(settings.map((s) => s.lun));
    if (luns.size !== settings.length)
      throw new InvalidFieldError('logicalUnits', 'must not repeat a LUN', [...luns]);
    if (!luns.has(0n))
      throw new InvalidFieldError(
        'logicalUnits',
        'must include LUN 0 (SPC-6 6.33: REPORT LUNS and INQUIRY are served through it)',
        [...luns],
      );
    for (const s of settings) await target.#add(s);
    return target;
  }

  async #add(settings: ReturnType<typeof resolveLogicalUnitOptions>): Promise<void> {
    const { store, capacity } = await openStore(settings);
    const lu = new LogicalUnit(settings, store, capacity, {
      view: this.#view,
      events: this.#events,
      clock: this.#clock,
    });
    this.#units.set(lu.lun, lu);
    this.#checks.set(lu.lun, new TransferCheck(lu.queueLimits));
    this.#luns = [...this.#units.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The LUNs, ascending. */
  get luns(): readonly bigint[] {
    return this.#luns;
  }

  /** Target port names. */
  get ports(): readonly string[] {
    return this.#view.ports;
  }

  #unit(lun: bigint, field = 'lun'): LogicalUnit {
    const lu = this.#units.get(lun);
    if (lu === undefined)
      throw new InvalidFieldError(field, `must be one of the target's LUNs (${this.#luns.join(', ')})`, lun);
    return lu;
  }

  /**
   * Runs a command. Resolves with `completed` (status, sense, data-in, residuals), `aborted`
   * (a TMF or another event ended it), or `rejected` (Linux would refuse the data layout).
   * Never rejects for SCSI outcomes; throws InvalidFieldError synchronously for malformed
   * arguments.
   */
  execute(nexus: ITNexus, task: TaskRequest): Promise<TaskResponse> {
    const info = this.#nexuses.resolve(nexus);
    if (task === null || typeof task !== 'object')
      throw new InvalidFieldError('task', 'must be an object', task);
    const lun = toLun('task.lun', task.lun);
    const tag = toTag('task.tag', task.tag);
    const cdb = task.cdb;
    if (!(cdb instanceof Uint8Array) || cdb.length < 6 || cdb.length > 260)
      throw new InvalidFieldError('task.cdb', 'must be a Uint8Array of 6..260 bytes', cdb);
    if (task.dataOut !== undefined && !(task.dataOut instanceof Uint8Array))
      throw new InvalidFieldError('task.dataOut', 'must be a Uint8Array', task.dataOut);
    const dataInLength = task.dataInLength ?? 0;
    if (!Number.isSafeInteger(dataInLength) || dataInLength < 0 || dataInLength > 0xffff_ffff)
      throw new InvalidFieldError('task.dataInLength', 'must be an integer in 0..4294967295', dataInLength);
    if (task.attribute !== undefined && !ATTRIBUTES.has(task.attribute))
      throw new InvalidFieldError(
        'task.attribute',
        `must be one of ${[...ATTRIBUTES].join(', ')}`,
        task.attribute,
      );
    if (
      task.priority !== undefined &&
      (!Number.isInteger(task.priority) || task.priority < 0 || task.priority > 15)
    )
      throw new InvalidFieldError('task.priority', 'must be an integer in 0..15', task.priority);
    const lu = this.#units.get(lun);
    const check = this.#checks.get(lun) ?? this.#checks.get(0n);
    const refusal =
      task.layout === null ? undefined : check?.check(task.dataOut?.length ?? 0, dataInLength, task.layout);
    if (refusal !== undefined)
      return Promise.resolve({ outcome: 'rejected', errno: refusal.errno, rule: refusal.rule });
    if (this.#closed) return Promise.resolve(this.#noUnit(task, dataInLength, true));
    if (lu === undefined) return Promise.resolve(this.#noUnit(task, dataInLength, false));
    return lu.submit(info, task, tag);
  }

  /**
   * A LUN the target does not have (SAM-6 5.x "incorrect logical unit selection"): INQUIRY
   * returns peripheral qualifier 011b, REQUEST SENSE returns LOGICAL UNIT NOT SUPPORTED as
   * data, REPORT LUNS is served, anything else is CHECK CONDITION, ILLEGAL REQUEST, LOGICAL
   * UNIT NOT SUPPORTED, in the sense format LUN 0's D_SENSE selects. After `close()` every
   * command gets NOT READY.
   */
  #noUnit(task: TaskRequest, dataInLength: number, closed: boolean): TaskResponse {
    const cdb = task.cdb;
    const reply = (status: number, data: Uint8Array, sense: Uint8Array = EMPTY): TaskResponse => ({
      outcome: 'completed',
      status,
      sense,
      dataIn: data.length > dataInLength ? data.subarray(0, dataInLength) : data,
      dataInResidual: dataInLength - data.length,
      dataOutResidual: task.dataOut?.length ?? 0,
    });
    const alloc16 = ((cdb[3] ?? 0) << 8) | (cdb[4] ?? 0);
    if (!closed) {
      if (cdb[0] === 0x12 && ((cdb[1] ?? 0) & 0x01) === 0) {
        const data = standardInquiry(this.#view, false);
        return reply(ScsiStatus.GOOD, data.subarray(0, Math.min(data.length, alloc16)));
      }
      if (cdb[0] === 0x03)
        return reply(ScsiStatus.GOOD, requestSenseNoLun(((cdb[1] ?? 0) & 1) === 1, cdb[4] ?? 0));
      if (cdb[0] === 0xa0) {
        const alloc = new DataView(cdb.buffer, cdb.byteOffset).getUint32(6);
        return reply(ScsiStatus.GOOD, reportLunsData(this.#luns, cdb[2] ?? 0, alloc));
      }
    }
    // There is no LU to take D_SENSE from: LUN 0's Control mode page decides the format.
    const format = this.#units.get(0n)?.modePages.descriptorSense === true ? 'descriptor' : 'fixed';
    const sense = closed
      ? encodeSense({
          format,
          senseKey: SenseKey.NOT_READY,
          ...Asc.LOGICAL_UNIT_NOT_READY_CAUSE_NOT_REPORTABLE,
        })
      : encodeSense({ format, senseKey: SenseKey.ILLEGAL_REQUEST, ...Asc.LOGICAL_UNIT_NOT_SUPPORTED });
    return reply(ScsiStatus.CHECK_CONDITION, EMPTY, sense);
  }

  /**
   * Runs a task management function (SAM-6 7). LU-scoped functions addressed to a LUN the
   * target lacks answer INCORRECT LOGICAL UNIT NUMBER; I_T NEXUS RESET covers every LU.
   * Resolves once every task it aborted has stopped.
   */
  async manage(nexus: ITNexus, request: TmfRequest): Promise<TmfResult> {
    const info = this.#nexuses.resolve(nexus);
    if (request === null || typeof request !== 'object')
      throw new InvalidFieldError('request', 'must be an object', request);
    const fn = request.function;
    if (!TMFS.has(fn))
      throw new InvalidFieldError('request.function', `must be one of ${[...TMFS].join(', ')}`, fn);
    const needsTag = fn === TaskManagementFunction.ABORT_TASK || fn === TaskManagementFunction.QUERY_TASK;
    const tag = request.tag === undefined ? undefined : toTag('request.tag', request.tag);
    if (needsTag && tag === undefined)
      throw new InvalidFieldError('request.tag', `is required for ${fn}`, request.tag);
    const events = this.#events;
    if (events.listening) events.emit('tmf-received', { nexus: info.public, request });
    let result: TmfResult;
    if (fn === TaskManagementFunction.I_T_NEXUS_RESET) {
      const parts = await Promise.all([...this.#units.values()].map((lu) => lu.manage(info, fn, undefined)));
      result = {
        response: TmfResponse.FUNCTION_COMPLETE,
        responseName: tmfResponseName(TmfResponse.FUNCTION_COMPLETE),
        aborted: parts.flatMap((p) => p.aborted),
        matched: [],
      };
    } else {
      const lun = toLun('request.lun', request.lun);
      const lu = this.#units.get(lun);
      result =
        lu === undefined
          ? {
              response: TmfResponse.INCORRECT_LUN,
              responseName: tmfResponseName(TmfResponse.INCORRECT_LUN),
              aborted: [],
              matched: [],
            }
          : await lu.manage(info, fn, tag);
    }
    if (events.listening) events.emit('tmf-completed', { nexus: info.public, request, result });
    return result;
  }

  /**
   * The transport lost an I_T nexus (iSCSI logout or connection drop, SAM-6 6.3.x "I_T nexus
   * loss"): its tasks are aborted, its SPC-2 reservation and PREVENT state dropped, and its
   * next command gets UNIT ATTENTION, I_T NEXUS LOSS OCCURRED. Persistent reservations stay.
   */
  async nexusLost(nexus: ITNexus): Promise<void> {
    const info = this.#nexuses.resolve(nexus);
    await Promise.all(
      [...this.#units.values()].map((lu) =>
        lu.manage(info, TaskManagementFunction.I_T_NEXUS_RESET, undefined),
      ),
    );
  }

  /** Changes run-time knobs of a logical unit (latency, faults, queue depth, concurrency, capacity, write protect). */
  async configure(lun: number | bigint, knobs: LogicalUnitKnobs): Promise<void> {
    const lu = this.#unit(toLun('lun', lun));
    if (knobs === null || typeof knobs !== 'object')
      throw new InvalidFieldError('knobs', 'must be an object', knobs);
    await lu.configure(knobs, 'knobs');
  }

  /** Facts about a logical unit. */
  describe(lun: number | bigint): LogicalUnitInfo {
    const lu = this.#unit(toLun('lun', lun));
    return {
      lun: lu.lun,
      blockSize: lu.blockSize,
      capacityBlocks: BigInt(lu.capacity),
      queueLimits: lu.queueLimits,
      queueDepth: lu.knobs.queueDepth,
      concurrency: lu.knobs.concurrency,
      thinProvisioning: lu.thin,
      backing: lu.backing,
      outstanding: lu.outstanding,
      serialNumber: lu.serialNumber,
    };
  }

  /** Adds a logical unit; every I_T nexus gets REPORTED LUNS DATA HAS CHANGED (SPC-6 6.33). */
  async addLogicalUnit(options: LogicalUnitOptions): Promise<void> {
    const settings = resolveLogicalUnitOptions(options, this.#luns.length);
    if (this.#units.has(settings.lun)) throw new InvalidFieldError('lun', 'is already in use', settings.lun);
    await this.#add(settings);
    this.#lunsChanged();
  }

  /** Removes a logical unit (LUN 0 stays): its tasks are aborted and its store closed. */
  async removeLogicalUnit(lun: number | bigint): Promise<void> {
    const n = toLun('lun', lun);
    if (n === 0n) throw new InvalidFieldError('lun', 'must not be 0: LUN 0 stays present', lun);
    const lu = this.#unit(n);
    this.#units.delete(n);
    this.#checks.delete(n);
    this.#luns = this.#luns.filter((l) => l !== n);
    await lu.close(this.#closer());
    this.#lunsChanged();
  }

  #lunsChanged(): void {
    for (const lu of this.#units.values())
      lu.establishForOthers(undefined, Asc.REPORTED_LUNS_DATA_HAS_CHANGED);
  }

  #closer(): NexusInfo {
    return this.#nexuses.resolve({
      initiator: `${this.name} (target)`,
      targetPort: this.#view.ports[0] as string,
    });
  }

  /** Makes every write durable (fdatasync of file-backed LUs). */
  async flush(): Promise<void> {
    await Promise.all([...this.#units.values()].map((lu) => lu.store.flush()));
  }

  /** Aborts outstanding tasks (`abortedBy: 'CLOSE'`), flushes and closes every store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const by = this.#closer();
    await Promise.all([...this.#units.values()].map((lu) => lu.close(by)));
  }

  /** Adds an event listener (see {@link TargetEvents}). */
  on<E extends keyof TargetEvents>(event: E, listener: (payload: TargetEvents[E]) => void): this {
    this.#events.on(event, listener);
    return this;
  }

  /** Adds a one-time event listener. */
  once<E extends keyof TargetEvents>(event: E, listener: (payload: TargetEvents[E]) => void): this {
    this.#events.once(event, listener);
    return this;
  }

  /** Removes an event listener. */
  off<E extends keyof TargetEvents>(event: E, listener: (payload: TargetEvents[E]) => void): this {
    this.#events.off(event, listener);
    return this;
  }
}
