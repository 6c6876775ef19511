/**
 * {@link Device}: one logical unit behind a transport, with tagged asynchronous requests, the
 * Device's own queue (queue depth, attribute ordering, abort while queued), timeouts,
 * AbortSignal, the permission pre-check, tracing, and the SCSI commands as methods.
 * @module
 */
import {
  AbortedError,
  type DecodedSense,
  DeviceError,
  DriverStatus,
  HostStatus,
  hexByte,
  InvalidFieldError,
  type ModeParameters,
  type ModeSelectPages,
  maxSafeRequestBytes,
  NotSupportedError,
  OsError,
  type PermissionDecision,
  parseVpdPage,
  ResultCategory,
  responseError,
  SenseKey,
  scsiResponse,
  splitLargeTransfer,
  TASK_TRANSITIONS,
  TagAllocator,
  type TagPolicy,
  TaskManagementFunction,
  type TaskState,
  TaskStateError,
  TimeoutError,
  type TransportCapabilities,
  TransportError,
  type UnmapRange,
  type VpdPage,
} from '@sgv4/core';
import {
  compareAndWriteCommand,
  type ReadWriteFlags,
  readCommand,
  synchronizeCacheCommand,
  unmapCommand,
  verifyCommand,
  type WriteSameOptions,
  writeCommand,
  writeSameCommand,
} from '../commands/block-io.js';
import { type Capacity, readCapacity10Command, readCapacity16Command } from '../commands/capacity.js';
import type { ScsiCommand } from '../commands/command.js';
import {
  inquiryCommand,
  type StandardInquiry,
  toDeviceIdentifier,
  vpdBytesCommand,
  vpdPageCommand,
} from '../commands/inquiry.js';
import {
  type ModeSelectOptions,
  type ModeSenseOptions,
  modeSelectCommand,
  modeSenseCommand,
} from '../commands/mode.js';
import { peripheralTypeName } from '../commands/peripheral-types.js';
import {
  type PersistentReserveOutAction,
  type PersistentReserveOutParameters,
  persistentReserveOutCommand,
  type RegisteredKeys,
  type ReservationStatus,
  readKeysCommand,
  readReservationCommand,
} from '../commands/persistent-reserve.js';
import { type LunReport, reportLunsCommand } from '../commands/report-luns.js';
import { type StartStopOptions, startStopCommand } from '../commands/start-stop.js';
import { reportSupportedOpcodesCommand, type SupportedOpcode } from '../commands/supported-opcodes.js';
import { requestSenseCommand, testUnitReadyCommand } from '../commands/unit-status.js';
import { type TraceEvent, traceComplete, traceError, traceSubmit, tracing } from '../tracing.js';
import type {
  DeviceCapabilities,
  TaskManagementResult,
  Transport,
  TransportDescription,
  TransportRequest,
  TransportResult,
} from '../transport/transport.js';
import type { DeviceIdentity } from './identity.js';
import type { DeviceLimits } from './limits.js';
import { type PermissionCheckOptions, PermissionGate } from './permission-gate.js';
import type {
  DeviceRequest,
  DeviceResponse,
  RequestOptions,
  SubmittedRequest,
  ValidatedRequest,
} from './request.js';
import { validateRequest } from './request.js';
import { TaskQueue } from './task-queue.js';

/** How a Device behaves (the transport-independent part of `open()`'s options). */
export interface DeviceOptions {
  /** Most requests in the transport at once (default: the transport's maximum, capped by the device's queue depth). */
  readonly queueDepth?: number;
  /** Who assigns task tags (default `library`). */
  readonly tagPolicy?: TagPolicy;
  /** Timeout of requests that set none, in ms (default 60 000, sg_raw's). */
  readonly defaultTimeoutMs?: number;
  /** The permission pre-check: on (default), off (`false`), or with a policy or table. */
  readonly permissionCheck?: boolean | PermissionCheckOptions;
  /** Read the identity (INQUIRY, VPD 0x00/0x80/0x83) when attaching (default true). */
  readonly identify?: boolean;
  /** Cancels the attach (the identity commands). */
  readonly signal?: AbortSignal;
}

/** Most tasks one Device keeps outstanding (queued plus in flight) before submit() fails with TaskSetFullError. */
export const MAX_OUTSTANDING = 65_536;
/** sg3_utils' default command timeout, in ms. */
export const DEFAULT_TIMEOUT_MS = 60_000;

const EMPTY = new Uint8Array(0);

interface Task {
  readonly tag: bigint;
  readonly tagOnWire: boolean;
  readonly attribute: ValidatedRequest['attribute'];
  readonly priority: number;
  readonly v: ValidatedRequest;
  readonly submittedAt: number;
  state: TaskState;
  settled: boolean;
  resolve: (r: DeviceResponse) => void;
  reject: (e: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  detachSignal: (() => void) | undefined;
}

/**
 * The map key of a tag: a number while it is exact (every library tag: tag spaces are at most 2^32),
 * the bigint beyond 2^53. V8 hashes a number far faster than a bigint.
 */
function taskKey(tag: bigint): number | bigint {
  return tag <= 0x1f_ffff_ffff_ffffn ? Number(tag) : tag;
}

function isTimeout(r: TransportResult): boolean {
  return (
    r.timedOut === true ||
    r.hostStatus === HostStatus.DID_TIME_OUT ||
    (r.driverStatus & 0x0f) === DriverStatus.DRIVER_TIMEOUT
  );
}

function commandName(cdb: Uint8Array): string {
  return `opcode ${hexByte(cdb[0] ?? 0)}`;
}

/** One logical unit, opened through a transport. Create with `open()` or {@link Device.attach}. */
export class Device implements AsyncDisposable {
  /** What was opened (a path or a URL). */
  readonly location: string;
  /** The transport kind: `sg`, `bsg`, `block`, `emu`, `iscsi`... */
  readonly kind: string;
  /** Opened without write access. */
  readonly readOnly: boolean;
  /** What the transport can do. */
  readonly capabilities: DeviceCapabilities;
  /** Most requests in the transport at once. */
  readonly queueDepth: number;
  /** Default request timeout (ms). */
  readonly defaultTimeoutMs: number;
  /** Who assigns tags. */
  readonly tagPolicy: TagPolicy;
  readonly #transport: Transport;
  readonly #queue: TaskQueue<Task>;
  readonly #tags: TagAllocator;
  /** Outstanding tasks by tag ({@link taskKey}). */
  readonly #tasks = new Map<number | bigint, Task>();
  readonly #gate: PermissionGate;
  #identity: DeviceIdentity;
  #limits: DeviceLimits;
  #capacity: Capacity | undefined;
  #closing: Promise<void> | undefined;

  private constructor(transport: Transport, description: TransportDescription, options: DeviceOptions) {
    this.#transport = transport;
    this.location = transport.location;
    this.kind = transport.kind;
    this.readOnly = transport.readOnly;
    this.capabilities = transport.capabilities;
    const caps = transport.capabilities;
    const deviceDepth = description.deviceQueueDepth;
    const depth =
      options.queueDepth ?? Math.max(1, Math.min(caps.maxQueueDepth, deviceDepth ?? caps.maxQueueDepth));
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_OUTSTANDING) {
      throw new InvalidFieldError(
        'queueDepth',
        `must be an integer in 1..${MAX_OUTSTANDING}`,
        options.queueDepth,
      );
    }
    this.queueDepth = Math.min(depth, caps.maxQueueDepth);
    transport.setQueueDepth?.(this.queueDepth);
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (
      !Number.isInteger(this.defaultTimeoutMs) ||
      this.defaultTimeoutMs < 1 ||
      this.defaultTimeoutMs > 0xffff_ffff
    ) {
      throw new InvalidFieldError(
        'defaultTimeoutMs',
        'must be an integer in 1..4294967295 (ms)',
        options.defaultTimeoutMs,
      );
    }
    this.tagPolicy = options.tagPolicy ?? 'library';
    if (this.tagPolicy !== 'library' && this.tagPolicy !== 'caller') {
      throw new InvalidFieldError('tagPolicy', "must be 'library' or 'caller'", this.tagPolicy);
    }
    this.#queue = new TaskQueue<Task>(this.queueDepth, caps.taskAttributes === 'initiator');
    const coreCaps: TransportCapabilities = {
      name: caps.name,
      canTag: caps.tagsOnWire,
      canSetTaskAttribute: caps.taskAttributes === 'wire',
      canAbortTask: caps.abortInFlight,
      canSendTmf: caps.taskManagement.length > 0,
      tagSpace: caps.tagSpace,
      note: caps.note,
    };
    const lun = description.hctl?.lun ?? 0n;
    this.#tags = new TagAllocator({
      nexus: { initiator: 'sgv4', target: description.address, lun },
      queueDepth: Number(BigInt(MAX_OUTSTANDING) < caps.tagSpace ? BigInt(MAX_OUTSTANDING) : caps.tagSpace),
      policy: this.tagPolicy,
      transport: coreCaps,
      untagged: 'software',
    });
    const check = options.permissionCheck ?? true;
    this.#gate = new PermissionGate(
      transport.permissions,
      check === false ? false : check === true ? {} : check,
      description.peripheralType ?? 0,
    );
    this.#identity = {
      address: description.address,
      ...(description.hctl ? { hctl: description.hctl } : {}),
      nodes: description.nodes ?? {},
      peripheralType: description.peripheralType ?? 0x1f,
      peripheralTypeName: peripheralTypeName(description.peripheralType ?? 0x1f),
      vendor: '',
      product: '',
      revision: '',
      identifiers: [],
      vpdPages: [],
    };
    const maxSafe = maxSafeRequestBytes(description.queueLimits);
    this.#limits = {
      queueLimits: description.queueLimits,
      assumed: description.assumedLimits,
      source: description.limitsSource,
      ...(deviceDepth !== undefined ? { deviceQueueDepth: deviceDepth } : {}),
      maxRequestBytes: Math.min(maxSafe, description.maxRequestBytes ?? maxSafe),
    };
  }

  /**
   * Wraps an open transport in a Device: reads its description and (unless `identify` is
   * false) its identity. Closes the transport when that fails.
   */
  static async attach(transport: Transport, options: DeviceOptions = {}): Promise<Device> {
    let device: Device | undefined;
    try {
      const description = await transport.describe();
      device = new Device(transport, description, options);
      if (options.identify ?? true) await device.#identify(options.signal);
      return device;
    } catch (error) {
      if (device !== undefined) await device.close();
      else await transport.close();
      throw error;
    }
  }

  /** Address, nodes, type, vendor, product, revision, serial and identifiers. */
  get identity(): DeviceIdentity {
    return this.#identity;
  }

  /** Queue limits and the request size the Device splits transfers at. */
  get limits(): DeviceLimits {
    return this.#limits;
  }

  /** The last capacity read (by {@link Device.readCapacity}, or by the first read/write). */
  get capacity(): Capacity | undefined {
    return this.#capacity;
  }

  /** Requests queued in the Device plus those in the transport. */
  get outstanding(): number {
    return this.#queue.waiting + this.#queue.inFlight;
  }

  /** Requests in the transport. */
  get inFlight(): number {
    return this.#queue.inFlight;
  }

  /** close() was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  async #identify(signal?: AbortSignal): Promise<void> {
    const opts = signal ? { signal } : {};
    const inquiry = await this.inquiry(opts);
    this.#gate.setDeviceType(inquiry.peripheralType);
    let vpdPages: readonly number[] = [];
    let serial: string | undefined;
    let identifiers: DeviceIdentity['identifiers'] = [];
    try {
      const page = await this.vpdPage(0x00, opts);
      vpdPages = page.pageCode === 0x00 ? page.supportedPages : [];
    } catch (error) {
      if (!(error instanceof DeviceError)) throw error; // no VPD support: ILLEGAL REQUEST
    }
    if (vpdPages.includes(0x80)) {
      const page = await this.vpdPage(0x80, opts);
      if (page.pageCode === 0x80 && page.serialNumber !== '') serial = page.serialNumber;
    }
    if (vpdPages.includes(0x83)) {
      const page = await this.vpdPage(0x83, opts);
      if (page.pageCode === 0x83) identifiers = page.designators.map(toDeviceIdentifier);
    }
    this.#identity = {
      ...this.#identity,
      peripheralType: inquiry.peripheralType,
      peripheralTypeName: inquiry.peripheralTypeName,
      vendor: inquiry.vendor,
      product: inquiry.product,
      revision: inquiry.revision,
      ...(serial !== undefined ? { serial } : {}),
      identifiers,
      vpdPages,
      inquiry,
    };
  }

  /** The permission model's decision for `cdb` on this handle; undefined when no kernel filter applies. */
  checkPermission(cdb: Uint8Array): PermissionDecision | undefined {
    if (!(cdb instanceof Uint8Array) || cdb.length === 0)
      throw new InvalidFieldError('cdb', 'must be a non-empty Uint8Array', cdb);
    return this.#gate.decide(cdb);
  }

  /**
   * Sends one command (raw mode). Resolves with the response for every command the transport
   * completed, whatever its status (CHECK CONDITION included: see `category` and
   * `decodedSense`); rejects only when there is no response (see the module docs: invalid
   * request, not supported, permission, tag collision, OS error, timeout, abort). The promise
   * carries the task's `tag` for {@link Device.abort}.
   */
  submit(request: DeviceRequest): SubmittedRequest {
    let task: Task;
    try {
      if (this.#closing !== undefined) throw new OsError(9, 'EBADF', 'submit', this.location);
      const v = validateRequest(request, this.capabilities, this.defaultTimeoutMs);
      this.#gate.check(v.request.cdb, this.location);
      const signal = request.signal;
      if (signal?.aborted)
        throw new AbortedError(`${commandName(request.cdb)} on ${this.location}`, signal.reason);
      const { tag, onWire } = this.#tags.allocate(request.tag);
      task = {
        tag,
        tagOnWire: onWire,
        attribute: v.attribute,
        priority: v.priority,
        v,
        submittedAt: tracing() ? performance.now() : 0,
        state: 'queued',
        settled: false,
        resolve: noop,
        reject: noop,
        timer: undefined,
        detachSignal: undefined,
      };
    } catch (error) {
      return Object.assign(Promise.reject(error), { tag: undefined });
    }
    const promise = Object.assign(
      new Promise<DeviceResponse>((resolve, reject) => {
        task.resolve = resolve;
        task.reject = reject;
      }),
      { tag: task.tag },
    );
    this.#tasks.set(taskKey(task.tag), task);
    const signal = request.signal;
    if (signal !== undefined) {
      const onAbort = () => this.#cancel(task, signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      task.detachSignal = () => signal.removeEventListener('abort', onAbort);
    }
    this.#queue.enqueue(task);
    this.#pump();
    return promise;
  }

  /**
   * {@link Device.submit}, then throws the response's error when it is not a success: DeviceError
   * (status and decoded sense) or TransportError. GOOD, CONDITION MET and RECOVERED ERROR
   * (the command succeeded after recovery, sg3_utils' SG_LIB_CAT_RECOVERED) are successes.
   */
  async execute(request: DeviceRequest): Promise<DeviceResponse> {
    const response = await this.submit(request);
    if (response.category === ResultCategory.GOOD) return response;
    if (
      response.decodedSense?.senseKey === SenseKey.RECOVERED_ERROR &&
      response.category === ResultCategory.SENSE
    )
      return response;
    const error = responseError(response);
    if (error !== undefined) throw error;
    return response;
  }

  /** Runs a command object: executes it and parses what it received. */
  async run<T>(command: ScsiCommand<T>, options: RequestOptions = {}): Promise<T> {
    const dataIn =
      command.dataIn ?? (command.dataInLength ? new Uint8Array(command.dataInLength) : undefined);
    const response = await this.execute({
      ...options,
      cdb: command.cdb,
      ...(dataIn !== undefined ? { dataIn } : {}),
      ...(command.dataOut !== undefined ? { dataOut: command.dataOut } : {}),
      ...(options.timeoutMs === undefined && command.timeoutMs !== undefined
        ? { timeoutMs: command.timeoutMs }
        : {}),
    });
    return command.parse(dataIn === undefined ? EMPTY : dataIn.subarray(0, response.transferred), response);
  }

  /**
   * Moves a task through the core's task state machine (queued -> issued -> completed | aborted |
   * timed-out -> aborted); the transition is checked, and its description built only when it fails.
   */
  #move(task: Task, to: TaskState): void {
    if (!TASK_TRANSITIONS[task.state].includes(to))
      throw new TaskStateError(this.#what(task), task.state, to);
    task.state = to;
  }

  #what(task: Task): string {
    return `${commandName(task.v.request.cdb)} tag ${task.tag} on ${this.location}`;
  }

  #pump(): void {
    for (let task = this.#queue.next(); task !== undefined; task = this.#queue.next()) this.#issue(task);
  }

  #issue(task: Task): void {
    this.#move(task, 'issued');
    const v = task.v;
    const r = v.request;
    // One object shape for every request (absent fields are undefined), so the transports' property
    // reads stay monomorphic on the hot path.
    const request: TransportRequest = {
      cdb: r.cdb,
      dataIn: r.dataIn,
      dataOut: r.dataOut,
      tag: task.tag,
      attribute: v.attribute,
      priority: v.priority,
      timeoutMs: v.timeoutMs,
      queueAt: r.queueAt,
      transfer: v.transfer,
      maxSenseLength: v.maxSenseLength,
    };
    if (tracing()) traceSubmit(this.#event(task));
    if (v.timeoutMs < this.capabilities.minTimeoutMs) {
      // The path would wait longer (bsg/block raise timeouts to 7 s): the Device keeps the caller's.
      task.timer = setTimeout(() => this.#expire(task), v.timeoutMs);
      task.timer.unref();
    }
    let sent: Promise<TransportResult>;
    try {
      sent = this.#transport.submit(request);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (result) => this.#completed(task, result),
      (error: unknown) => this.#failed(task, error),
    );
  }

  #event(task: Task, extra: Partial<TraceEvent> = {}): TraceEvent {
    return {
      device: this.location,
      kind: this.kind,
      tag: task.tag,
      cdb: task.v.request.cdb,
      attribute: task.attribute,
      ...extra,
    };
  }

  #finish(task: Task, how: 'completed' | 'aborted'): void {
    if (task.timer !== undefined) clearTimeout(task.timer);
    task.detachSignal?.();
    task.detachSignal = undefined;
    this.#tags.release(task.tag, how);
    this.#tasks.delete(taskKey(task.tag));
  }

  #completed(task: Task, result: TransportResult): void {
    this.#queue.done(task);
    if (task.settled) {
      // Abandoned (signal, or the Device's timer): the transport has now finished with it.
      this.#move(task, 'aborted');
      this.#finish(task, 'aborted');
    } else if (isTimeout(result)) {
      this.#move(task, 'timed-out');
      this.#move(task, 'aborted');
      this.#finish(task, 'aborted');
      const error = new TimeoutError(this.#what(task), task.v.timeoutMs, {
        cause: new TransportError(result.hostStatus, result.driverStatus),
      });
      this.#settle(task, error);
    } else {
      this.#move(task, 'completed');
      this.#finish(task, 'completed');
      const response = this.#response(task, result);
      task.settled = true;
      if (tracing()) {
        traceComplete(
          this.#event(task, {
            status: response.status,
            hostStatus: response.hostStatus,
            driverStatus: response.driverStatus,
            category: response.category,
            durationMs: performance.now() - task.submittedAt,
          }),
        );
      }
      task.resolve(response);
    }
    this.#pump();
  }

  #failed(task: Task, error: unknown): void {
    this.#queue.done(task);
    this.#move(task, 'aborted');
    this.#finish(task, 'aborted');
    if (!task.settled) {
      let reported = error;
      if (error instanceof OsError && error.errno === 1) {
        reported = this.#gate.kernelRefusal(task.v.request.cdb, this.location, error) ?? error;
      }
      this.#settle(task, reported);
    }
    this.#pump();
  }

  #settle(task: Task, error: unknown): void {
    task.settled = true;
    if (tracing()) traceError(this.#event(task, { error, durationMs: performance.now() - task.submittedAt }));
    task.reject(error);
  }

  /** The Device's own timer fired: the caller gets a TimeoutError now, the tag stays taken until the transport finishes. */
  #expire(task: Task): void {
    task.timer = undefined;
    if (task.settled || task.state !== 'issued') return;
    this.#move(task, 'timed-out');
    task.detachSignal?.();
    task.detachSignal = undefined;
    this.#settle(task, new TimeoutError(this.#what(task), task.v.timeoutMs));
  }

  #cancel(task: Task, reason: unknown): void {
    if (task.settled) return;
    if (task.state === 'queued') {
      this.#queue.remove(task);
      this.#move(task, 'aborted');
      this.#finish(task, 'aborted');
      this.#settle(task, new AbortedError(this.#what(task), reason));
      this.#pump();
      return;
    }
    const inFlightAbort = this.capabilities.abortInFlight && this.#transport.abort !== undefined;
    this.#settle(
      task,
      new AbortedError(
        inFlightAbort
          ? this.#what(task)
          : `${this.#what(task)} (abandoned in flight: ${this.capabilities.name} cannot abort it, the device still runs it)`,
        reason,
      ),
    );
    if (inFlightAbort) this.#transport.abort?.(task.tag).catch(noop);
  }

  #response(task: Task, r: TransportResult): DeviceResponse {
    const v = task.v;
    const resid = v.direction === 'in' ? r.dinResid : v.direction === 'out' ? r.doutResid : 0;
    return {
      ...scsiResponse(r),
      tag: task.tag,
      tagOnWire: task.tagOnWire,
      transferred: Math.max(0, Math.min(v.length, v.length - resid)),
    };
  }

  /**
   * Aborts the task with `tag`: still queued in the Device -> removed (its promise rejects
   * AbortedError) and true; in flight -> the transport's in-flight abort when it has one, else
   * NotSupportedError; unknown or already finished -> false.
   */
  async abort(tag: bigint): Promise<boolean> {
    const task = typeof tag === 'bigint' ? this.#tasks.get(taskKey(tag)) : undefined;
    if (task === undefined || task.settled) return false;
    if (task.state === 'queued') {
      this.#cancel(task, new Error(`abort(${tag})`));
      return true;
    }
    if (!this.capabilities.abortInFlight || this.#transport.abort === undefined) {
      throw new NotSupportedError(
        'abort of a task in flight',
        `${this.capabilities.name}: ${this.capabilities.note}`,
      );
    }
    return this.#transport.abort(tag);
  }

  /**
   * Sends a task management function the transport lists in `capabilities.taskManagement`
   * (NotSupportedError otherwise). ABORT TASK and QUERY TASK need `tag`.
   */
  async taskManagement(
    fn: TaskManagementFunction,
    options: { tag?: bigint } = {},
  ): Promise<TaskManagementResult> {
    if (!Object.values(TaskManagementFunction).includes(fn)) {
      throw new InvalidFieldError(
        'fn',
        `must be one of ${Object.keys(TaskManagementFunction).join(', ')}`,
        fn,
      );
    }
    if (!this.capabilities.taskManagement.includes(fn) || this.#transport.taskManagement === undefined) {
      throw new NotSupportedError(
        fn.replace(/_/g, ' '),
        `${this.capabilities.name} cannot send it (${this.capabilities.note})`,
      );
    }
    const needsTag = fn === TaskManagementFunction.ABORT_TASK || fn === TaskManagementFunction.QUERY_TASK;
    if (needsTag && options.tag === undefined)
      throw new InvalidFieldError('tag', `is required for ${fn}`, options.tag);
    if (this.#closing !== undefined) throw new OsError(9, 'EBADF', 'taskManagement', this.location);
    return this.#transport.taskManagement(fn, options.tag);
  }

  /**
   * A buffer for this device's data path: memory the transport moves without a copy when it has
   * such memory, else a plain Uint8Array (on 6.1 kernel paths the kernel then decides: bsg and
   * block map aligned buffers directly, sg copies unless `transfer: 'direct'`).
   */
  allocateBuffer(length: number): Uint8Array {
    if (!Number.isSafeInteger(length) || length < 1)
      throw new InvalidFieldError('length', 'must be a positive integer', length);
    return this.#transport.allocateBuffer?.(length) ?? new Uint8Array(length);
  }

  /**
   * The sg reserved buffer, mmap-ed (one per call, each on its own fd): requests whose data is
   * such a buffer (from offset 0) with `transfer: 'mmap'` move their data through it without a
   * copy (SG_FLAG_MMAP_IO). NotSupportedError off sg.
   */
  mapReservedBuffer(length: number): Uint8Array {
    if (this.#transport.mapReservedBuffer === undefined || !this.capabilities.mmap) {
      throw new NotSupportedError('mmap-ed IO', `${this.capabilities.name} has no mmap-able reserved buffer`);
    }
    return this.#transport.mapReservedBuffer(length);
  }

  /**
   * Closes: requests still queued in the Device reject with AbortedError; requests in the
   * transport settle as the transport returns them; resolves once the transport is closed.
   * A second call returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    const waiting = this.#queue.drain();
    this.#closing = (async () => {
      for (const task of waiting) {
        this.#move(task, 'aborted');
        this.#finish(task, 'aborted');
        this.#settle(task, new AbortedError(`${this.#what(task)} (device closed)`));
      }
      await this.#transport.close();
    })();
    return this.#closing;
  }

  /** `await using device = await open(...)` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Requests in flight keep the process alive (the default). */
  ref(): this {
    this.#transport.ref?.();
    return this;
  }

  /** Requests in flight no longer keep the process alive; an idle Device never does. */
  unref(): this {
    this.#transport.unref?.();
    return this;
  }

  // ---- Commands -------------------------------------------------------------------------

  /** TEST UNIT READY; DeviceError (NOT READY, UNIT ATTENTION...) when not ready. */
  testUnitReady(options: RequestOptions = {}): Promise<void> {
    return this.run(testUnitReadyCommand(), options);
  }

  /** Standard INQUIRY. */
  inquiry(options: RequestOptions = {}): Promise<StandardInquiry> {
    return this.run(inquiryCommand(), options);
  }

  /** A parsed VPD page (0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2), asked again with room when it is longer than 252 bytes. */
  async vpdPage(page: number, options: RequestOptions = {}): Promise<VpdPage> {
    vpdPageCommand(page); // validates the page code before anything is sent
    return parseVpdPage(page, await this.vpdBytes(page, options));
  }

  /** The bytes of any VPD page, asked again with room when it is longer than 252 bytes. */
  async vpdBytes(page: number, options: RequestOptions = {}): Promise<Uint8Array> {
    const first = await this.run(vpdBytesCommand(page), options);
    const length = 4 + (((first[2] ?? 0) << 8) | (first[3] ?? 0));
    if (length <= first.length || first.length < 0xfc) return first;
    return this.run(vpdBytesCommand(page, Math.min(length, 0xffff)), options);
  }

  /**
   * READ CAPACITY(10), then READ CAPACITY(16) when the capacity does not fit (returned LBA
   * 0xFFFFFFFF, SBC-5 5.20.2) or (10) is not supported; remembered as {@link Device.capacity}.
   */
  async readCapacity(options: RequestOptions = {}): Promise<Capacity> {
    let capacity: Capacity;
    try {
      capacity = await this.run(readCapacity10Command(), options);
      if (capacity.lastLba === 0xffff_ffffn) capacity = await this.run(readCapacity16Command(), options);
    } catch (error) {
      if (!(error instanceof DeviceError) || error.sense?.senseKey !== SenseKey.ILLEGAL_REQUEST) throw error;
      capacity = await this.run(readCapacity16Command(), options);
    }
    this.#capacity = capacity;
    return capacity;
  }

  /** READ CAPACITY(16) only (protection, provisioning and physical block fields). */
  async readCapacity16(options: RequestOptions = {}): Promise<Capacity> {
    const capacity = await this.run(readCapacity16Command(), options);
    this.#capacity = capacity;
    return capacity;
  }

  async #blockSize(options: { blockSize?: number } & RequestOptions): Promise<number> {
    if (options.blockSize !== undefined) {
      if (!Number.isInteger(options.blockSize) || options.blockSize < 1) {
        throw new InvalidFieldError('blockSize', 'must be a positive integer', options.blockSize);
      }
      return options.blockSize;
    }
    const { signal } = options;
    return (this.#capacity ?? (await this.readCapacity(signal ? { signal } : {}))).blockSize;
  }

  /** Splits [lba, lba + blocks) into requests the queue accepts (the core's splitLargeTransfer). */
  #chunks(lba: bigint, blocks: number, blockSize: number) {
    return splitLargeTransfer(this.#limits.queueLimits, {
      lba,
      blocks: BigInt(blocks),
      blockSize,
      // READ/WRITE(10) while the whole range stays below 2^32 blocks, else (16) with 32-bit lengths.
      maxBlocksPerCommand: lba + BigInt(blocks) <= 0x1_0000_0000n ? 0xffff : 0xffff_ffff,
      maxBytesPerRequest: this.#limits.maxRequestBytes,
    });
  }

  /** Runs chunk commands together (the Device's queue bounds them) and waits for all before failing. */
  async #all(commands: readonly ScsiCommand<unknown>[], options: RequestOptions): Promise<void> {
    const results = await Promise.allSettled(commands.map((c) => this.run(c, options)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /**
   * Reads `blocks` logical blocks from `lba` (READ(10), or READ(16) beyond 2^32 blocks or
   * 65535 blocks per request), split into requests the queue accepts. Returns the data (in
   * `buffer` when given). The block size is READ CAPACITY's unless `blockSize` is given.
   */
  async read(
    lba: bigint,
    blocks: number,
    options: RequestOptions & ReadWriteFlags & { blockSize?: number; buffer?: Uint8Array } = {},
  ): Promise<Uint8Array> {
    if (!Number.isSafeInteger(blocks) || blocks < 1)
      throw new InvalidFieldError('blocks', 'must be a positive integer', blocks);
    const blockSize = await this.#blockSize(options);
    const total = blocks * blockSize;
    const buffer = options.buffer ?? new Uint8Array(total);
    if (buffer.length < total)
      throw new InvalidFieldError('buffer', `must hold ${total} bytes (blocks x block size)`, buffer);
    const { buffer: _b, blockSize: _s, ...rest } = options;
    if (total <= this.#limits.maxRequestBytes) {
      // One request carries it (READ(16) when the range needs it): no split, no fan-out.
      await this.run(readCommand(lba, blocks, buffer.subarray(0, total), options), rest);
      return buffer.subarray(0, total);
    }
    let at = 0;
    const commands = this.#chunks(lba, blocks, blockSize).map((c) => {
      const cmd = readCommand(c.lba, c.blocks, buffer.subarray(at, at + c.bytes), options);
      at += c.bytes;
      return cmd;
    });
    await this.#all(commands, rest);
    return buffer.subarray(0, total);
  }

  /** Writes `data` (a whole number of blocks) at `lba` (WRITE(10)/(16)), split like {@link Device.read}. */
  async write(
    lba: bigint,
    data: Uint8Array,
    options: RequestOptions & ReadWriteFlags & { blockSize?: number } = {},
  ): Promise<void> {
    if (!(data instanceof Uint8Array) || data.length === 0)
      throw new InvalidFieldError('data', 'must be a non-empty Uint8Array', data);
    const blockSize = await this.#blockSize(options);
    if (data.length % blockSize !== 0) {
      throw new InvalidFieldError('data', `must be a whole number of ${blockSize}-byte blocks`, data.length);
    }
    const { blockSize: _s, ...rest } = options;
    if (data.length <= this.#limits.maxRequestBytes) {
      await this.run(writeCommand(lba, data.length / blockSize, data, options), rest);
      return;
    }
    let at = 0;
    const commands = this.#chunks(lba, data.length / blockSize, blockSize).map((c) => {
      const cmd = writeCommand(c.lba, c.blocks, data.subarray(at, at + c.bytes), options);
      at += c.bytes;
      return cmd;
    });
    await this.#all(commands, rest);
  }

  /** VERIFY: the medium only, or compared with `data` (BYTCHK 1; MISCOMPARE as DeviceError). */
  async verify(
    lba: bigint,
    blocks: number,
    options: RequestOptions & { data?: Uint8Array } = {},
  ): Promise<void> {
    const { data, ...rest } = options;
    await this.run(verifyCommand(lba, blocks, data), rest);
  }

  /** WRITE SAME: `block` written to `blocks` blocks (or, with `unmap`, the blocks deallocated). */
  async writeSame(
    lba: bigint,
    blocks: number,
    block: Uint8Array,
    options: RequestOptions & WriteSameOptions = {},
  ): Promise<void> {
    await this.run(writeSameCommand(lba, blocks, block, options), options);
  }

  /** UNMAP the ranges (thin provisioning). */
  async unmap(ranges: readonly UnmapRange[], options: RequestOptions = {}): Promise<void> {
    await this.run(unmapCommand(ranges), options);
  }

  /** COMPARE AND WRITE: writes `write` at `lba` only when the blocks there equal `compare` (else MISCOMPARE). */
  async compareAndWrite(
    lba: bigint,
    compare: Uint8Array,
    write: Uint8Array,
    options: RequestOptions & ReadWriteFlags & { blockSize?: number } = {},
  ): Promise<void> {
    const blockSize = await this.#blockSize(options);
    if (compare.length % blockSize !== 0) {
      throw new InvalidFieldError(
        'compare',
        `must be a whole number of ${blockSize}-byte blocks`,
        compare.length,
      );
    }
    await this.run(compareAndWriteCommand(lba, compare.length / blockSize, compare, write, options), options);
  }

  /** SYNCHRONIZE CACHE of a range (default: everything). */
  async synchronizeCache(
    options: RequestOptions & { lba?: bigint; blocks?: number; immediate?: boolean } = {},
  ): Promise<void> {
    await this.run(synchronizeCacheCommand(options.lba, options.blocks, options.immediate), options);
  }

  /** REPORT LUNS. */
  reportLuns(options: RequestOptions & { selectReport?: number } = {}): Promise<LunReport> {
    return this.run(reportLunsCommand(options.selectReport), options);
  }

  /** MODE SENSE (10 by default), parsed by the core. */
  modeSense(options: RequestOptions & ModeSenseOptions = {}): Promise<ModeParameters> {
    return this.run(modeSenseCommand(options), options);
  }

  /** MODE SELECT of the Caching and/or Control pages. */
  async modeSelect(pages: ModeSelectPages, options: RequestOptions & ModeSelectOptions = {}): Promise<void> {
    await this.run(modeSelectCommand(pages, options), options);
  }

  /** REQUEST SENSE: the pending sense data, or undefined. */
  requestSense(options: RequestOptions & { descriptor?: boolean } = {}): Promise<DecodedSense | undefined> {
    return this.run(requestSenseCommand(options.descriptor), options);
  }

  /** START STOP UNIT. */
  async startStop(options: RequestOptions & StartStopOptions): Promise<void> {
    await this.run(startStopCommand(options), options);
  }

  /** REPORT SUPPORTED OPERATION CODES (all commands). */
  reportSupportedOpcodes(options: RequestOptions = {}): Promise<SupportedOpcode[]> {
    return this.run(reportSupportedOpcodesCommand(), options);
  }

  /** PERSISTENT RESERVE IN: READ KEYS. */
  persistentReserveIn(action: 'read-keys', options?: RequestOptions): Promise<RegisteredKeys>;
  /** PERSISTENT RESERVE IN: READ RESERVATION. */
  persistentReserveIn(action: 'read-reservation', options?: RequestOptions): Promise<ReservationStatus>;
  persistentReserveIn(
    action: 'read-keys' | 'read-reservation',
    options: RequestOptions = {},
  ): Promise<RegisteredKeys | ReservationStatus> {
    if (action === 'read-keys') return this.run(readKeysCommand(), options);
    if (action === 'read-reservation') return this.run(readReservationCommand(), options);
    return Promise.reject(
      new InvalidFieldError('action', "must be 'read-keys' or 'read-reservation'", action),
    );
  }

  /** PERSISTENT RESERVE OUT (REGISTER, RESERVE, RELEASE, CLEAR, PREEMPT...). */
  async persistentReserveOut(
    action: PersistentReserveOutAction,
    parameters: PersistentReserveOutParameters = {},
    options: RequestOptions = {},
  ): Promise<void> {
    await this.run(persistentReserveOutCommand(action, parameters), options);
  }
}

function noop(): void {}
