/**
 * The `emu:` transport: the embedded SCSI target of @sgv4/target, in this process. Unlike the
 * Linux 6.1 paths it carries task tags, attributes and priority to the device server, aborts a
 * task in flight (ABORT TASK) and sends every task management function, so it is where those
 * parts of the API are real. Each transport is its own I_T nexus; opens of the same `emu:name`
 * share one target (several initiators, as SAM describes them).
 * @module
 */
import {
  AbortedError,
  DriverStatus,
  errnoFromName,
  HostStatus,
  InvalidFieldError,
  OsError,
  ScsiStatus,
  SG_INFO_CHECK,
  TaskManagementFunction,
} from '@sgv4/core';
import { createTarget, type ITNexus, type ScsiTarget, type TaskResponse } from '@sgv4/target';
import { Capability, hasCapability } from '../linux/process-capabilities.js';
import type {
  DeviceCapabilities,
  TaskManagementResult,
  Transport,
  TransportDescription,
  TransportFactory,
  TransportOpenOptions,
  TransportPermissionProfile,
  TransportRequest,
  TransportResult,
} from '../transport/transport.js';
import { type EmuLocation, parseEmuLocation } from './emu-location.js';

/** Options of an {@link EmuTransport} on a target you created. */
export interface EmuTransportOptions {
  /** How it reads in errors and `device.location` (default `emu:<target name>`). */
  readonly location?: string;
  /** The logical unit (default 0). */
  readonly lun?: bigint;
  /** Open read-only: the permission pre-check then refuses write-class commands. */
  readonly readOnly?: boolean;
  /** CAP_SYS_RAWIO for the pre-check (default: the process's own, as for a kernel node). */
  readonly capSysRawio?: boolean;
  /** Called once the transport is closed (the shared-target registry uses it). */
  readonly onClose?: () => Promise<void>;
}

interface Pending {
  timer: ReturnType<typeof setTimeout> | undefined;
  timedOut: boolean;
}

let nexusSequence = 0;

/** A Device's connection to an embedded target: one I_T nexus to one logical unit. */
export class EmuTransport implements Transport {
  readonly kind = 'emu';
  readonly location: string;
  readonly readOnly: boolean;
  readonly capabilities: DeviceCapabilities;
  /**
   * The pre-check models a bsg node of the same disk opened by this process (bsg always filters
   * commands, with the open mode), so a program tried on `emu:` meets the refusals it will meet
   * on a real node.
   */
  readonly permissions: TransportPermissionProfile;
  readonly #target: ScsiTarget;
  readonly #lun: bigint;
  readonly #nexus: ITNexus;
  readonly #pending = new Map<bigint, Pending>();
  readonly #onClose: (() => Promise<void>) | undefined;
  #closing: Promise<void> | undefined;

  /** Connects to `target` as a new initiator. */
  constructor(target: ScsiTarget, options: EmuTransportOptions = {}) {
    this.#target = target;
    this.#lun = options.lun ?? 0n;
    const info = target.describe(this.#lun);
    this.location = options.location ?? `emu:${target.name}`;
    this.readOnly = options.readOnly ?? false;
    this.#nexus = { initiator: `sgv4-${process.pid}-${++nexusSequence}` };
    this.#onClose = options.onClose;
    this.permissions = {
      iface: 'bsg',
      openMode: this.readOnly ? 'read-only' : 'read-write',
      capSysRawio: options.capSysRawio ?? hasCapability(Capability.SYS_RAWIO),
      submission: 'ioctl',
      partition: false,
    };
    this.capabilities = {
      name: 'emu (@sgv4/target)',
      tagsOnWire: true,
      tagSpace: 1n << 32n,
      taskAttributes: 'wire',
      priorityOnWire: true,
      abortInFlight: true,
      taskManagement: Object.values(TaskManagementFunction),
      iovecs: false,
      directIo: 'none',
      mmap: false,
      maxQueueDepth: info.queueDepth,
      minTimeoutMs: 1,
      note: 'the embedded target runs in this process: tags, attributes, priority and TMFs reach its task set',
    };
  }

  /** The I_T nexus name this transport uses. */
  get initiator(): string {
    return this.#nexus.initiator;
  }

  describe(): Promise<TransportDescription> {
    const info = this.#target.describe(this.#lun);
    return Promise.resolve({
      address: `emu:${this.#target.name}/${this.#lun}`,
      queueLimits: info.queueLimits,
      assumedLimits: [],
      limitsSource: `@sgv4/target logical unit ${this.#lun} of ${this.#target.name}`,
      deviceQueueDepth: info.queueDepth,
      peripheralType: 0,
    });
  }

  submit(request: TransportRequest): Promise<TransportResult> {
    if (this.#closing !== undefined) return Promise.reject(new OsError(9, 'EBADF', 'submit', this.location));
    const dataIn = request.dataIn;
    const dataOut = request.dataOut;
    if (
      (dataIn !== undefined && !(dataIn instanceof Uint8Array)) ||
      (dataOut !== undefined && !(dataOut instanceof Uint8Array))
    ) {
      return Promise.reject(
        new InvalidFieldError('data', 'must be one flat buffer on emu:', dataIn ?? dataOut),
      );
    }
    const started = performance.now();
    let response: Promise<TaskResponse>;
    try {
      response = this.#target.execute(this.#nexus, {
        lun: this.#lun,
        tag: request.tag,
        attribute: request.attribute,
        priority: request.priority,
        cdb: request.cdb,
        ...(dataOut !== undefined ? { dataOut } : {}),
        dataInLength: dataIn?.length ?? 0,
      });
    } catch (error) {
      return Promise.reject(error);
    }
    const pending: Pending = { timer: undefined, timedOut: false };
    this.#pending.set(request.tag, pending);
    // The target never answers a task its `timeout` fault swallowed: like Linux's SCSI EH, the
    // initiator's timer sends ABORT TASK and reports the command as timed out (DID_TIME_OUT).
    pending.timer = setTimeout(() => {
      pending.timedOut = true;
      this.#target
        .manage(this.#nexus, {
          function: TaskManagementFunction.ABORT_TASK,
          lun: this.#lun,
          tag: request.tag,
        })
        .catch(() => {});
    }, request.timeoutMs);
    pending.timer.unref();
    return response.then(
      (r) => this.#result(request, r, pending, started),
      (error: unknown) => {
        this.#forget(request.tag, pending);
        throw error;
      },
    );
  }

  #forget(tag: bigint, pending: Pending): void {
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    if (this.#pending.get(tag) === pending) this.#pending.delete(tag);
  }

  #result(request: TransportRequest, r: TaskResponse, pending: Pending, started: number): TransportResult {
    this.#forget(request.tag, pending);
    const durationMs = Math.round(performance.now() - started);
    if (r.outcome === 'rejected') {
      // Linux would refuse this data layout at submission: the errno it returns, and the rule.
      throw new OsError(errnoFromName(r.errno) ?? 22, r.errno, `SG_IO (${r.rule})`, this.location);
    }
    if (r.outcome === 'aborted') {
      if (pending.timedOut) {
        return {
          status: 0,
          hostStatus: HostStatus.DID_TIME_OUT,
          driverStatus: 0,
          sense: new Uint8Array(0),
          dinResid: 0,
          doutResid: 0,
          durationMs,
          info: SG_INFO_CHECK,
          timedOut: true,
        };
      }
      if (r.status === ScsiStatus.TASK_ABORTED) {
        return {
          status: r.status,
          hostStatus: 0,
          driverStatus: 0,
          sense: new Uint8Array(0),
          dinResid: request.dataIn?.length ?? 0,
          doutResid: 0,
          durationMs,
          info: SG_INFO_CHECK,
        };
      }
      throw new AbortedError(
        `tag ${request.tag} on ${this.location} (${r.abortedBy} from ${r.by.initiator})`,
      );
    }
    const dataIn = request.dataIn;
    if (dataIn instanceof Uint8Array && r.dataIn.length > 0) dataIn.set(r.dataIn.subarray(0, dataIn.length));
    const check = r.status !== ScsiStatus.GOOD || r.sense.length > 0;
    return {
      status: r.status,
      hostStatus: 0,
      driverStatus: r.sense.length > 0 ? DriverStatus.DRIVER_SENSE : 0,
      sense: r.sense,
      dinResid: r.dataInResidual,
      doutResid: r.dataOutResidual,
      durationMs,
      info: check ? SG_INFO_CHECK : 0,
    };
  }

  /** ABORT TASK for `tag`: true when the target aborted it (its submit() then rejects AbortedError). */
  async abort(tag: bigint): Promise<boolean> {
    if (!this.#pending.has(tag)) return false;
    const result = await this.#target.manage(this.#nexus, {
      function: TaskManagementFunction.ABORT_TASK,
      lun: this.#lun,
      tag,
    });
    return result.aborted.some((t) => t.tag === tag && t.nexus.initiator === this.#nexus.initiator);
  }

  async taskManagement(fn: TaskManagementFunction, tag?: bigint): Promise<TaskManagementResult> {
    const result = await this.#target.manage(this.#nexus, {
      function: fn,
      lun: this.#lun,
      ...(tag !== undefined ? { tag } : {}),
    });
    return {
      fn,
      response: result.response,
      responseName: result.responseName,
      aborted: result.aborted.filter((t) => t.nexus.initiator === this.#nexus.initiator).map((t) => t.tag),
    };
  }

  /** Ends the I_T nexus: its tasks are aborted (their submit() rejects AbortedError), then the target is released. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closing = (async () => {
        await this.#target.nexusLost(this.#nexus);
        for (const [tag, p] of this.#pending) this.#forget(tag, p);
        await this.#onClose?.();
      })();
    }
    return this.#closing;
  }
}

/** Named targets shared by every open of the same `emu:name`, with the number of opens. */
const shared = new Map<string, { target: Promise<ScsiTarget>; spec: EmuLocation; opens: number }>();

function sameSpec(a: EmuLocation, b: EmuLocation): boolean {
  return (
    a.sizeBytes === b.sizeBytes &&
    a.blockSize === b.blockSize &&
    a.latencyNs === b.latencyNs &&
    a.queueDepth === b.queueDepth
  );
}

function newTarget(spec: EmuLocation): Promise<ScsiTarget> {
  return createTarget({
    name: spec.name === '' ? 'emu' : spec.name,
    logicalUnits: [
      {
        lun: 0,
        blockSize: spec.blockSize,
        sizeBytes: spec.sizeBytes,
        queueDepth: spec.queueDepth,
        latency: { nanoseconds: spec.latencyNs },
        powerOnUnitAttention: spec.powerOnUnitAttention,
      },
    ],
  });
}

/**
 * `emu:[name][?size=64M&lbs=512&latency=100us&queue=64&ua=1]`: a memory-backed disk. Without a
 * name every open gets its own target; with one, opens share it while any is open (parameters
 * must then agree). `ua=1` gives each new nexus the power-on UNIT ATTENTION a real disk reports.
 */
export const emuTransportFactory: TransportFactory = {
  scheme: 'emu',
  description: 'the embedded SCSI target of @sgv4/target, in this process',
  async open(location: string, options: TransportOpenOptions): Promise<Transport> {
    const spec = parseEmuLocation(location);
    const transportOptions = {
      location,
      readOnly: options.readOnly,
      ...(options.capSysRawio !== undefined ? { capSysRawio: options.capSysRawio } : {}),
    };
    if (spec.name === '') {
      const target = await newTarget(spec);
      return new EmuTransport(target, { ...transportOptions, onClose: () => target.close() });
    }
    let entry = shared.get(spec.name);
    if (entry !== undefined && location.includes('?') && !sameSpec(entry.spec, spec)) {
      throw new InvalidFieldError(
        'location',
        `names the running target emu:${spec.name} with other parameters`,
        location,
      );
    }
    if (entry === undefined) {
      entry = { target: newTarget(spec), spec, opens: 0 };
      shared.set(spec.name, entry);
    }
    entry.opens++;
    const held = entry;
    const target = await held.target;
    return new EmuTransport(target, {
      ...transportOptions,
      onClose: async () => {
        if (--held.opens === 0) {
          shared.delete(spec.name);
          await target.close();
        }
      },
    });
  },
};
