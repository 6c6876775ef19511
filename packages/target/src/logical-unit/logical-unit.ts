/**
 * One logical unit: its blocks, mode pages, reservations, unit attentions and task set, and
 * the path every command takes through it (SAM-6 5.x "command processing"):
 *
 * arrival: tag check (OVERLAPPED COMMANDS ATTEMPTED), NACA/LINK and ACA checks, task set full
 * (TASK SET FULL / BUSY), every-nth faults, unit attention; then the task enters the task set
 * and waits for the ordering rules ({@link TaskScheduler});
 * processing (after the latency): opcode, reservation conflict, NOT READY, write protection,
 * data-out length, then the command's handler.
 * @module
 */
import {
  encodeSense,
  InvalidFieldError,
  type Nexus,
  ScsiStatus,
  SenseKey,
  type Task,
  TaskAttribute,
  TaskManagementFunction,
  TaskSet,
  type TmfOutcome,
  TmfResponse,
  type TransportCapabilities,
  tmfResponseName,
} from '@sgv4/core';
import type {
  AbortedTaskResponse,
  Backing,
  LogicalUnitKnobs,
  TaskRequest,
  TaskResponse,
  TmfResult,
} from '../api/types.js';
import type {
  CommandContext,
  CommandDescriptor,
  CommandResult,
  TargetView,
} from '../commands/command-context.js';
import { COMMANDS, lookupCommand } from '../commands/command-table.js';
import { fnv1a64 } from '../commands/persistent-reservations.js';
import type { TargetEventEmitter } from '../events.js';
import type { LatencyClock } from '../faults/latency-clock.js';
import type { NexusInfo } from '../nexus.js';
import { type AdditionalSense, Asc } from '../sense/additional-sense.js';
import { CheckCondition, invalidFieldInCdb } from '../sense/check-condition.js';
import type { BlockStore, MaybePromise } from '../storage/block-store.js';
import { TaskRecord } from '../task-set/task-record.js';
import { TaskScheduler } from '../task-set/task-scheduler.js';
import { type LogicalUnitSettings, type ResolvedKnobs, resolveKnobs } from './lu-config.js';
import { ModePages } from './mode-pages.js';
import { Reservations } from './reservations.js';
import { UnitAttentions } from './unit-attentions.js';

/**
 * The target port as the core's task model sees it: it carries 64-bit tags and attributes
 * and takes every TMF (the SAS SSP-like reference transport, with a wider tag space).
 */
export const TARGET_PORT_CAPABILITIES: TransportCapabilities = Object.freeze({
  name: 'sgv4 embedded target',
  canTag: true,
  canSetTaskAttribute: true,
  canAbortTask: true,
  canSendTmf: true,
  tagSpace: 1n << 64n,
  note: 'tags, attributes and TMFs reach the device server unchanged',
});

/** Tasks per I_T_L nexus the core's per-nexus allocator allows; the LU-wide depth is enforced here. */
const NEXUS_TAG_LIMIT = 65535;

const EMPTY = new Uint8Array(0);

/** What caused an abort, as reported in the aborted response. */
type AbortCause = AbortedTaskResponse['abortedBy'];

/** What a logical unit needs from its target. */
export interface LogicalUnitHost {
  /** Target-wide facts for handlers. */
  readonly view: TargetView;
  /** Events. */
  readonly events: TargetEventEmitter;
  /** Latency timers. */
  readonly clock: LatencyClock;
}

/** One logical unit. Created by the target; handlers read its state. */
export class LogicalUnit {
  /** LUN. */
  readonly lun: bigint;
  /** Logical block size in bytes. */
  readonly blockSize: number;
  /** Thin provisioned (LBPME). */
  readonly thin: boolean;
  /** QueueLimits of the LU as Linux sees it. */
  readonly queueLimits: LogicalUnitSettings['queueLimits'];
  /** The backing description. */
  readonly backing: Backing;
  /** Unit serial number. */
  readonly serialNumber: string;
  /** NAA 3h locally assigned identifier (8 bytes) for VPD page 0x83. */
  readonly naaIdentifier: Uint8Array;
  /** The store. */
  readonly store: BlockStore;
  /** Mode pages. */
  readonly modePages = new ModePages();
  /** Reservations. */
  readonly reservations = new Reservations();
  /** Pending unit attentions. */
  readonly unitAttentions = new UnitAttentions();
  /** I_T nexuses that sent PREVENT ALLOW MEDIUM REMOVAL with PREVENT = 1. */
  readonly preventingRemoval = new Set<string>();
  /** Stopped by START STOP UNIT. */
  stopped = false;
  /** Capacity in blocks. */
  capacity: number;
  /** Run-time knobs. */
  knobs: ResolvedKnobs;

  readonly #host: LogicalUnitHost;
  readonly #powerOnUnitAttention: boolean;
  readonly #scheduler: TaskScheduler;
  readonly #coreTasks = new TaskSet({
    transport: TARGET_PORT_CAPABILITIES,
    queueDepth: NEXUS_TAG_LIMIT,
    policy: 'caller',
  });
  readonly #records = new Map<Task, TaskRecord>();
  /** Outstanding tasks by nexus key, then tag. */
  readonly #byNexus = new Map<string, Map<bigint, TaskRecord>>();
  /** Nexuses that have addressed this LU (the "every I_T nexus" of unit attentions). */
  readonly #seen = new Set<string>();
  readonly #coreNexus = new Map<string, Nexus>();
  #received = 0;
  #sequence = 0;
  #closed = false;

  /** Built by the target once the store is open. */
  constructor(settings: LogicalUnitSettings, store: BlockStore, capacity: number, host: LogicalUnitHost) {
    this.lun = settings.lun;
    this.blockSize = settings.blockSize;
    this.thin = settings.thinProvisioning;
    this.queueLimits = settings.queueLimits;
    this.backing = settings.backing;
    this.store = store;
    this.capacity = capacity;
    this.knobs = settings.knobs;
    this.#host = host;
    this.#powerOnUnitAttention = settings.powerOnUnitAttention;
    const hash = fnv1a64(`${host.view.name}/${settings.lun}`);
    this.serialNumber =
      settings.serialNumber ?? `SGV4${hash.toString(16).padStart(16, '0').slice(0, 12).toUpperCase()}`;
    const naa = (hash & 0x0fff_ffff_ffff_ffffn) | 0x3000_0000_0000_0000n;
    this.naaIdentifier = new Uint8Array(8);
    new DataView(this.naaIdentifier.buffer).setBigUint64(0, naa);
    const lu = this;
    this.#scheduler = new TaskScheduler({
      get concurrency() {
        return lu.knobs.concurrency;
      },
      get unrestrictedReordering() {
        return lu.modePages.unrestrictedReordering;
      },
      start: (task) => this.#start(task),
    });
  }

  /** MAXIMUM TRANSFER LENGTH in blocks from `max_dev_sectors` (0 = no limit reported, SBC-5 6.6.4). */
  get maximumTransferLength(): number {
    const q = this.queueLimits;
    return q.maxDevSectors === 0
      ? 0
      : Math.min(0xffff_ffff, Math.floor((q.maxDevSectors * 512) / this.blockSize));
  }

  /** Hardware write protect or SWP. */
  get writeProtected(): boolean {
    return this.knobs.writeProtected || this.modePages.softwareWriteProtect;
  }

  /** Tasks in the task set. */
  get outstanding(): number {
    return this.#scheduler.size;
  }

  /** The commands this LU supports, in table order. */
  supportedCommands(): readonly CommandDescriptor[] {
    return COMMANDS.filter((d) => d.supported === undefined || d.supported(this));
  }

  /** The NOT READY additional sense code, or undefined when ready (SBC-5 4.x, SPC-6 4.4). */
  notReadyCode(): AdditionalSense | undefined {
    switch (this.knobs.faults.notReady) {
      case 'becoming-ready':
        return Asc.LOGICAL_UNIT_IS_IN_PROCESS_OF_BECOMING_READY;
      case 'start-required':
        return Asc.LOGICAL_UNIT_NOT_READY_INITIALIZING_COMMAND_REQUIRED;
      case 'no-medium':
        return Asc.MEDIUM_NOT_PRESENT;
      default:
        return this.stopped ? Asc.LOGICAL_UNIT_NOT_READY_INITIALIZING_COMMAND_REQUIRED : undefined;
    }
  }

  /** Establishes a unit attention for every I_T nexus that has addressed the LU except `except`. */
  establishForOthers(except: string | undefined, code: AdditionalSense): void {
    this.unitAttentions.establishAll(this.#seen, code, except);
  }

  /** Applies run-time knobs (validated). A capacity change sets CAPACITY DATA HAS CHANGED for every nexus. */
  async configure(knobs: LogicalUnitKnobs, field: string): Promise<void> {
    const next = resolveKnobs(field, knobs, this.knobs);
    if (knobs.capacityBlocks !== undefined) {
      const blocks =
        typeof knobs.capacityBlocks === 'bigint' ? Number(knobs.capacityBlocks) : knobs.capacityBlocks;
      if (!Number.isSafeInteger(blocks) || blocks < 1)
        throw new InvalidFieldError(
          `${field}.capacityBlocks`,
          'must be an integer >= 1',
          knobs.capacityBlocks,
        );
      if (blocks !== this.capacity) {
        await this.store.resize(blocks);
        this.capacity = blocks;
        this.establishForOthers(undefined, Asc.CAPACITY_DATA_HAS_CHANGED);
      }
    }
    this.knobs = next;
    this.#scheduler.pump();
  }

  #nexusFor(nexus: NexusInfo): Nexus {
    let n = this.#coreNexus.get(nexus.key);
    if (n === undefined) {
      n = { initiator: nexus.initiator, target: nexus.targetPort, lun: this.lun };
      this.#coreNexus.set(nexus.key, n);
    }
    return n;
  }

  /** First contact of a nexus: the power-on unit attention (SAM-6 5.14, 29/00). */
  #meet(nexus: NexusInfo): void {
    if (this.#seen.has(nexus.key)) return;
    this.#seen.add(nexus.key);
    if (this.#powerOnUnitAttention)
      this.unitAttentions.establish(nexus.key, Asc.POWER_ON_RESET_OR_BUS_DEVICE_RESET_OCCURRED);
  }

  #encodeSense(cc: CheckCondition): Uint8Array {
    return encodeSense({ ...cc.sense, format: this.modePages.descriptorSense ? 'descriptor' : 'fixed' });
  }

  /** A response built now, for commands that never enter the task set. */
  #immediate(request: TaskRequest, status: number, sense: Uint8Array = EMPTY): TaskResponse {
    return {
      outcome: 'completed',
      status,
      sense,
      dataIn: EMPTY,
      dataInResidual: request.dataInLength ?? 0,
      dataOutResidual: request.dataOut?.length ?? 0,
    };
  }

  #emitReceivedAndCompleted(
    nexus: NexusInfo,
    request: TaskRequest,
    tag: bigint,
    sequence: number,
    status: number,
  ): void {
    const events = this.#host.events;
    if (!events.listening) return;
    const base = {
      task: { nexus: nexus.public, lun: this.lun, tag },
      attribute: request.attribute ?? TaskAttribute.SIMPLE,
      opcode: request.cdb[0] ?? 0,
      sequence,
    };
    events.emit('task-received', base);
    events.emit('task-completed', { ...base, status });
  }

  /**
   * A command arrives on `nexus`. Returns the response now for commands refused at arrival,
   * else a promise settled when the task ends.
   */
  submit(nexus: NexusInfo, request: TaskRequest, tag: bigint): Promise<TaskResponse> {
    const sequence = ++this.#sequence;
    this.#received++;
    this.#meet(nexus);
    const refuse = (status: number, cc?: CheckCondition): Promise<TaskResponse> => {
      this.#emitReceivedAndCompleted(nexus, request, tag, sequence, status);
      return Promise.resolve(
        this.#immediate(request, status, cc === undefined ? EMPTY : this.#encodeSense(cc)),
      );
    };
    if (this.#closed) {
      return refuse(
        ScsiStatus.CHECK_CONDITION,
        new CheckCondition(SenseKey.NOT_READY, Asc.LOGICAL_UNIT_NOT_READY_CAUSE_NOT_REPORTABLE),
      );
    }
    // SAM-6 5.x "Overlapped commands": a tag already in use on this I_T_L nexus aborts every
    // task of the nexus and the new command ends with ABORTED COMMAND, OVERLAPPED COMMANDS ATTEMPTED.
    const tags = this.#byNexus.get(nexus.key);
    if (tags?.has(tag)) {
      void this.#abortVia(
        TaskManagementFunction.ABORT_TASK_SET,
        nexus,
        undefined,
        'OVERLAPPED COMMAND',
        nexus,
      );
      return refuse(
        ScsiStatus.CHECK_CONDITION,
        new CheckCondition(SenseKey.ABORTED_COMMAND, Asc.OVERLAPPED_COMMANDS_ATTEMPTED),
      );
    }
    const { descriptor, fields, error } = lookupCommand(request.cdb);
    // CONTROL byte: NACA = 1 without NormACA, or the obsolete LINK = 1, is INVALID FIELD IN CDB (SAM-6 5.2, 5.x ACA).
    const controlAt = (descriptor?.spec.length ?? request.cdb.length) - 1;
    const control = request.cdb[controlAt] ?? 0;
    if ((control & 0x05) !== 0)
      return refuse(ScsiStatus.CHECK_CONDITION, invalidFieldInCdb(controlAt, (control & 0x04) !== 0 ? 2 : 0));
    // SAM-6 8.6: an ACA task when no ACA condition exists (NormACA = 0: never).
    if (request.attribute === TaskAttribute.ACA) {
      return refuse(
        ScsiStatus.CHECK_CONDITION,
        new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_MESSAGE_ERROR),
      );
    }
    // Task set full (SAM-6 5.3.x): TASK SET FULL when this nexus has tasks in the set, BUSY when it has none.
    if (this.#scheduler.size >= this.knobs.queueDepth) {
      return refuse((tags?.size ?? 0) > 0 ? ScsiStatus.TASK_SET_FULL : ScsiStatus.BUSY);
    }
    const everyNth = this.knobs.faults.everyNth;
    const fault = everyNth !== undefined && this.#received % everyNth.n === 0 ? everyNth.action : undefined;
    if (fault === 'busy') return refuse(ScsiStatus.BUSY);
    // Unit attention (SAM-6 5.14): reported instead of running the command, except for INQUIRY,
    // REPORT LUNS and REQUEST SENSE.
    const uaMode = descriptor?.unitAttention ?? 'report';
    if (uaMode === 'report' && this.unitAttentions.has(nexus.key)) {
      const ua = this.unitAttentions.take(nexus.key);
      if (ua !== undefined) {
        return refuse(
          ScsiStatus.CHECK_CONDITION,
          new CheckCondition(
            SenseKey.UNIT_ATTENTION,
            ua.code,
            ua.overflow ? { senseKeySpecific: { kind: 'unit-attention-overflow', overflow: true } } : {},
          ),
        );
      }
    }
    const priority = request.priority ?? 0;
    return new Promise<TaskResponse>((resolve) => {
      const record = new TaskRecord({
        nexus,
        lun: this.lun,
        tag,
        attribute: request.attribute ?? TaskAttribute.SIMPLE,
        rank: priority === 0 ? 15 : priority,
        sequence,
        request,
        descriptor,
        fields,
        range:
          descriptor?.range !== undefined && fields !== undefined
            ? descriptor.range(fields, this, request.dataOut ?? EMPTY)
            : undefined,
        resolve,
      });
      record.fault = fault;
      if (error !== undefined) record.decodeError = error;
      record.core = this.#coreTasks.submit(this.#nexusFor(nexus), { tag, attribute: record.attribute });
      this.#records.set(record.core, record);
      let map = tags;
      if (map === undefined) {
        map = new Map();
        this.#byNexus.set(nexus.key, map);
      }
      map.set(tag, record);
      const events = this.#host.events;
      if (events.listening) events.emit('task-received', this.#taskEvent(record));
      this.#scheduler.admit(record);
    });
  }

  #taskEvent(record: TaskRecord) {
    return {
      task: record.reference,
      attribute: record.attribute,
      opcode: record.request.cdb[0] ?? 0,
      sequence: record.sequence,
    };
  }

  /** The scheduler enabled a task: after the latency, process it. */
  #start(record: TaskRecord): void {
    this.#coreTasks.issue(record.core);
    const events = this.#host.events;
    if (events.listening) events.emit('task-started', this.#taskEvent(record));
    const { nanoseconds, jitterNanoseconds } = this.knobs.latency;
    const delay = nanoseconds + (jitterNanoseconds > 0 ? Math.random() * jitterNanoseconds : 0);
    if (delay > 0) record.cancelTimer = this.#host.clock.schedule(delay, () => this.#process(record));
    else this.#process(record);
  }

  #process(record: TaskRecord): void {
    record.cancelTimer = undefined;
    if (record.phase !== 'enabled') return;
    // every-nth timeout: the device never answers; the task waits for a TMF.
    if (record.fault === 'timeout') return;
    let result: MaybePromise<CommandResult | undefined>;
    try {
      result = this.#run(record);
    } catch (e) {
      this.#complete(record, this.#failure(e));
      return;
    }
    if (result instanceof Promise) {
      record.inflight = result.then(
        (r) => this.#complete(record, r),
        (e: unknown) => this.#complete(record, this.#failure(e)),
      );
    } else {
      this.#complete(record, result);
    }
  }

  #failure(e: unknown): CommandResult & { sense?: Uint8Array } {
    if (e instanceof CheckCondition)
      return { status: ScsiStatus.CHECK_CONDITION, sense: this.#encodeSense(e) };
    // A backing store failure (EIO, ENOSPC, ...) is a HARDWARE ERROR, INTERNAL TARGET FAILURE (44/00).
    return {
      status: ScsiStatus.CHECK_CONDITION,
      sense: encodeSense({
        format: this.modePages.descriptorSense ? 'descriptor' : 'fixed',
        senseKey: SenseKey.HARDWARE_ERROR,
        ...Asc.INTERNAL_TARGET_FAILURE,
      }),
    };
  }

  /** The checks every command goes through, then its handler (SAM-6 5.x, SPC-6 5.14, SBC-5 4.x). */
  #run(record: TaskRecord): MaybePromise<CommandResult | undefined> {
    const d = record.descriptor;
    const fields = record.fields;
    if (d === undefined || fields === undefined)
      throw (
        record.decodeError ?? new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_COMMAND_OPERATION_CODE)
      );
    if (d.supported !== undefined && !d.supported(this))
      throw new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_COMMAND_OPERATION_CODE);
    if (record.fault === 'aborted-command')
      throw new CheckCondition(SenseKey.ABORTED_COMMAND, Asc.ACK_NAK_TIMEOUT);
    const access = typeof d.access === 'function' ? d.access(fields) : d.access;
    if (this.reservations.conflicts(record.nexus.key, access, d.spc2Allowed === true)) {
      return { status: ScsiStatus.RESERVATION_CONFLICT };
    }
    if (d.medium === true) {
      const notReady = this.notReadyCode();
      if (notReady !== undefined) throw new CheckCondition(SenseKey.NOT_READY, notReady);
    }
    if (d.modifiesMedium === true && this.writeProtected) {
      throw new CheckCondition(
        SenseKey.DATA_PROTECT,
        this.knobs.writeProtected ? Asc.WRITE_PROTECTED : Asc.LOGICAL_UNIT_SOFTWARE_WRITE_PROTECTED,
      );
    }
    const need = d.dataOutLength?.(fields, this) ?? 0;
    const have = record.request.dataOut?.length ?? 0;
    if (have < need || (d.dataOutExact === true && have !== need)) {
      // RFC 7143 11.4.5.2 / FCP-4: the command asks for more data than the initiator sends (or,
      // for COMPARE AND WRITE and WRITE SAME, a different amount): nothing is written.
      throw new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT);
    }
    const ctx: CommandContext = {
      lu: this,
      nexus: record.nexus,
      cdb: record.request.cdb,
      fields,
      dataOut: need === 0 ? EMPTY : (record.request.dataOut as Uint8Array).subarray(0, need),
      task: record,
      target: this.#host.view,
    };
    return d.handler(ctx);
  }

  #complete(record: TaskRecord, result: (CommandResult & { sense?: Uint8Array }) | undefined): void {
    if (record.phase !== 'enabled') return; // aborted meanwhile: the result is dropped
    record.phase = 'ended';
    record.inflight = undefined;
    this.#coreTasks.complete(record.core);
    this.#forget(record);
    this.#scheduler.remove(record, true);
    const request = record.request;
    const status = result?.status ?? ScsiStatus.GOOD;
    const produced = result?.dataIn ?? EMPTY;
    const expected = request.dataInLength ?? 0;
    const dataIn = produced.length > expected ? produced.subarray(0, expected) : produced;
    const need =
      record.descriptor !== undefined && record.fields !== undefined
        ? (record.descriptor.dataOutLength?.(record.fields, this) ?? 0)
        : 0;
    const response: TaskResponse = {
      outcome: 'completed',
      status,
      sense: result?.sense ?? EMPTY,
      dataIn,
      dataInResidual: expected - produced.length,
      dataOutResidual: (request.dataOut?.length ?? 0) - need,
    };
    const events = this.#host.events;
    if (events.listening) events.emit('task-completed', { ...this.#taskEvent(record), status });
    record.resolve(response);
  }

  #forget(record: TaskRecord): void {
    this.#records.delete(record.core);
    const tags = this.#byNexus.get(record.nexus.key);
    if (tags?.get(record.tag) === record) {
      tags.delete(record.tag);
      if (tags.size === 0) this.#byNexus.delete(record.nexus.key);
    }
  }

  /**
   * Ends an aborted task (the core state machine has already moved it to `aborted`): its
   * timer is cancelled, and once any I/O in flight has finished it leaves the task set and
   * its promise resolves. TASK ABORTED status when aborted by another I_T nexus and TAS = 1
   * (SAM-6 5.6, SPC-6 7.5.10).
   */
  #endAborted(record: TaskRecord, cause: AbortCause, by: NexusInfo): Promise<void> | undefined {
    if (record.phase === 'ended') return undefined;
    const wasEnabled = record.phase === 'enabled';
    record.phase = 'ended';
    record.cancelTimer?.();
    record.cancelTimer = undefined;
    this.#forget(record);
    const byOther = by.key !== record.nexus.key;
    const aborted: AbortedTaskResponse = {
      outcome: 'aborted',
      abortedBy: cause,
      by: by.public,
      ...(byOther && this.modePages.taskAbortedStatus ? { status: ScsiStatus.TASK_ABORTED } : {}),
    };
    record.aborted = aborted;
    const finish = (): void => {
      this.#scheduler.remove(record, wasEnabled);
      const events = this.#host.events;
      if (events.listening) events.emit('task-aborted', { ...this.#taskEvent(record), abortedBy: cause });
      record.resolve(aborted);
    };
    const inflight = record.inflight;
    if (inflight === undefined) {
      finish();
      return undefined;
    }
    return inflight.then(finish, finish);
  }

  /** Applies a core TMF and ends the tasks it aborted; resolves when they have all stopped. */
  #abortVia(
    fn: TaskManagementFunction,
    nexus: NexusInfo,
    tag: bigint | undefined,
    cause: AbortCause,
    by: NexusInfo,
  ): { outcome: TmfOutcome; records: TaskRecord[]; stopped: Promise<void> } {
    const outcome = this.#coreTasks.applyTmf(fn, this.#nexusFor(nexus), tag);
    const records = outcome.aborted
      .map((t) => this.#records.get(t))
      .filter((r): r is TaskRecord => r !== undefined);
    const waits: Promise<void>[] = [];
    for (const r of records) {
      const w = this.#endAborted(r, cause, by);
      if (w !== undefined) waits.push(w);
    }
    return {
      outcome,
      records,
      stopped: waits.length === 0 ? Promise.resolve() : Promise.all(waits).then(() => undefined),
    };
  }

  /**
   * PREEMPT AND ABORT (SPC-6 5.14.11.4.x): aborts every task of the preempted I_T nexuses
   * (the caller leaves out its own nexus, so never the PERSISTENT RESERVE OUT task itself).
   * Undefined when nothing had to stop.
   */
  abortTasksOf(keys: ReadonlySet<string>, cause: AbortCause, by: NexusInfo): Promise<void> | undefined {
    const waits: Promise<void>[] = [];
    for (const key of keys) {
      const tags = this.#byNexus.get(key);
      const any = tags?.values().next().value;
      if (any === undefined) continue;
      const { stopped } = this.#abortVia(
        TaskManagementFunction.ABORT_TASK_SET,
        any.nexus,
        undefined,
        cause,
        by,
      );
      waits.push(stopped);
    }
    return waits.length === 0 ? undefined : Promise.all(waits).then(() => undefined);
  }

  /**
   * A task management function for this LU (SAM-6 7): the core's TaskSet decides which tasks
   * it aborts or matches; the LU adds the side effects SAM-6 6.3 and SPC-6 list:
   * - CLEAR TASK SET with TAS = 0: COMMANDS CLEARED BY ANOTHER INITIATOR for the other nexuses
   *   whose tasks were aborted;
   * - LOGICAL UNIT RESET: SPC-2 reservation released, PREVENT state cleared, saved mode pages
   *   become current, BUS DEVICE RESET FUNCTION OCCURRED for every I_T nexus;
   * - I_T NEXUS RESET: the nexus's SPC-2 reservation and PREVENT state dropped, I_T NEXUS LOSS
   *   OCCURRED for it (persistent reservations survive, SPC-6 5.14.x);
   * - QUERY ASYNCHRONOUS EVENT: FUNCTION SUCCEEDED with the pending unit attention's sense key,
   *   ASC and ASCQ as ADDITIONAL RESPONSE INFORMATION; FUNCTION COMPLETE when none;
   * - CLEAR ACA: FUNCTION REJECTED (NormACA = 0: there is never an ACA condition to clear).
   */
  async manage(nexus: NexusInfo, fn: TaskManagementFunction, tag: bigint | undefined): Promise<TmfResult> {
    this.#meet(nexus);
    const done = (
      response: TmfResponse,
      aborted: TaskRecord[] = [],
      matched: TaskRecord[] = [],
      info?: Uint8Array,
    ): TmfResult => ({
      response,
      responseName: tmfResponseName(response),
      aborted: aborted.map((r) => r.reference),
      matched: matched.map((r) => r.reference),
      ...(info === undefined ? {} : { additionalResponseInformation: info }),
    });
    switch (fn) {
      case TaskManagementFunction.CLEAR_ACA:
        return done(TmfResponse.FUNCTION_NOT_SUPPORTED);
      case TaskManagementFunction.QUERY_ASYNCHRONOUS_EVENT: {
        const ua = this.unitAttentions.peek(nexus.key);
        if (ua === undefined) return done(TmfResponse.FUNCTION_COMPLETE);
        const depth = Math.min(2, this.unitAttentions.count(nexus.key));
        return done(
          TmfResponse.FUNCTION_SUCCEEDED,
          [],
          [],
          Uint8Array.of((depth << 4) | SenseKey.UNIT_ATTENTION, ua.asc, ua.ascq),
        );
      }
      case TaskManagementFunction.QUERY_TASK:
      case TaskManagementFunction.QUERY_TASK_SET: {
        const outcome = this.#coreTasks.applyTmf(fn, this.#nexusFor(nexus), tag);
        const matched = outcome.matched
          .map((t) => this.#records.get(t))
          .filter((r): r is TaskRecord => r !== undefined);
        return done(outcome.response, [], matched);
      }
      default:
        break;
    }
    const cause = fn as AbortCause;
    const { records, stopped } = this.#abortVia(fn, nexus, tag, cause, nexus);
    switch (fn) {
      case TaskManagementFunction.CLEAR_TASK_SET:
        if (!this.modePages.taskAbortedStatus) {
          for (const r of records)
            if (r.nexus.key !== nexus.key)
              this.unitAttentions.establish(r.nexus.key, Asc.COMMANDS_CLEARED_BY_ANOTHER_INITIATOR);
        }
        break;
      case TaskManagementFunction.LOGICAL_UNIT_RESET:
        this.reservations.releaseSpc2();
        this.preventingRemoval.clear();
        this.modePages.reset();
        this.establishForOthers(undefined, Asc.BUS_DEVICE_RESET_FUNCTION_OCCURRED);
        break;
      case TaskManagementFunction.I_T_NEXUS_RESET:
        this.nexusReset(nexus);
        break;
      default:
        break;
    }
    await stopped;
    return done(TmfResponse.FUNCTION_COMPLETE, records);
  }

  /** The per-LU effects of an I_T nexus reset or loss (SAM-6 6.3.x), without aborting (the caller does). */
  nexusReset(nexus: NexusInfo): void {
    this.reservations.releaseSpc2(nexus.key);
    this.preventingRemoval.delete(nexus.key);
    this.unitAttentions.establish(nexus.key, Asc.I_T_NEXUS_LOSS_OCCURRED);
  }

  /** Aborts every task (target shutdown) and closes the store. */
  async close(by: NexusInfo): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const { stopped } = this.#abortVia(TaskManagementFunction.CLEAR_TASK_SET, by, undefined, 'CLOSE', by);
    await stopped;
    await this.store.close();
  }
}
