/**
 * A transport whose answers the test decides, to check the Device's own logic (its queue,
 * tags, timers, cancellation) step by step. The real transports are checked by the conformance
 * suite against the kernel (lab) and the embedded target.
 */
import {
  AbortedError,
  defaultQueueLimits,
  TaskManagementFunction,
  TmfResponse,
  tmfResponseName,
} from '@sgv4/core';
import type {
  DeviceCapabilities,
  TaskManagementResult,
  Transport,
  TransportDescription,
  TransportPermissionProfile,
  TransportRequest,
  TransportResult,
} from '../../src/index.js';

/** GOOD with no sense and no residual. */
export const GOOD: TransportResult = {
  status: 0,
  hostStatus: 0,
  driverStatus: 0,
  sense: new Uint8Array(0),
  dinResid: 0,
  doutResid: 0,
  durationMs: 0,
  info: 0,
};

/** CHECK CONDITION with fixed-format sense (key, asc, ascq). */
export function checkCondition(key: number, asc: number, ascq: number): TransportResult {
  const sense = new Uint8Array(18);
  sense[0] = 0x70;
  sense[2] = key;
  sense[7] = 10;
  sense[12] = asc;
  sense[13] = ascq;
  return { ...GOOD, status: 0x02, driverStatus: 0x08, sense };
}

/** Capabilities like 6.1 bsg unless overridden. */
export function capabilities(overrides: Partial<DeviceCapabilities> = {}): DeviceCapabilities {
  return {
    name: 'scripted',
    tagsOnWire: false,
    tagSpace: 1n << 32n,
    taskAttributes: 'initiator',
    priorityOnWire: false,
    abortInFlight: false,
    taskManagement: [],
    iovecs: false,
    directIo: 'automatic',
    mmap: false,
    maxQueueDepth: 4,
    minTimeoutMs: 1,
    note: 'a test transport',
    ...overrides,
  };
}

interface Pending {
  readonly request: TransportRequest;
  readonly resolve: (r: TransportResult) => void;
  readonly reject: (e: unknown) => void;
}

/** What to answer a request with: a result, an error, or `hold` to answer later. */
export type Responder = (request: TransportRequest) => TransportResult | Error | 'hold';

/** A transport driven by the test. */
export class ScriptedTransport implements Transport {
  readonly kind = 'scripted';
  readonly location = 'scripted:0';
  readonly readOnly: boolean;
  readonly capabilities: DeviceCapabilities;
  readonly permissions?: TransportPermissionProfile;
  /** Every request the Device sent, in order. */
  readonly issued: TransportRequest[] = [];
  /** Requests waiting for an answer, by tag. */
  readonly pending = new Map<bigint, Pending>();
  /** Aborts the Device asked for. */
  readonly aborts: bigint[] = [];
  responder: Responder;
  closed = false;

  constructor(
    options: {
      capabilities?: Partial<DeviceCapabilities>;
      responder?: Responder;
      readOnly?: boolean;
      permissions?: TransportPermissionProfile;
    } = {},
  ) {
    this.capabilities = capabilities(options.capabilities);
    this.responder = options.responder ?? (() => GOOD);
    this.readOnly = options.readOnly ?? false;
    if (options.permissions) this.permissions = options.permissions;
  }

  describe(): Promise<TransportDescription> {
    return Promise.resolve({
      address: 'scripted:0',
      queueLimits: { ...defaultQueueLimits(), maxHwSectors: 64, maxSectors: 64, maxSegments: 8 },
      assumedLimits: [],
      limitsSource: 'test',
      deviceQueueDepth: 32,
      peripheralType: 0,
    });
  }

  submit(request: TransportRequest): Promise<TransportResult> {
    this.issued.push(request);
    const answer = this.responder(request);
    if (answer instanceof Error) return Promise.reject(answer);
    if (answer !== 'hold') return Promise.resolve(answer);
    return new Promise((resolve, reject) => this.pending.set(request.tag, { request, resolve, reject }));
  }

  /** Completes a held request. */
  complete(tag: bigint, result: TransportResult = GOOD): void {
    const p = this.pending.get(tag);
    if (!p) throw new Error(`tag ${tag} is not held`);
    this.pending.delete(tag);
    p.resolve(result);
  }

  /** Fails a held request. */
  fail(tag: bigint, error: unknown): void {
    const p = this.pending.get(tag);
    if (!p) throw new Error(`tag ${tag} is not held`);
    this.pending.delete(tag);
    p.reject(error);
  }

  abort(tag: bigint): Promise<boolean> {
    this.aborts.push(tag);
    const p = this.pending.get(tag);
    if (!p) return Promise.resolve(false);
    this.pending.delete(tag);
    p.reject(new AbortedError(`tag ${tag}`));
    return Promise.resolve(true);
  }

  taskManagement(fn: TaskManagementFunction, tag?: bigint): Promise<TaskManagementResult> {
    const aborted: bigint[] = [];
    if (fn === TaskManagementFunction.LOGICAL_UNIT_RESET) {
      for (const [t, p] of this.pending) {
        p.reject(new AbortedError(`tag ${t} (LU reset)`));
        aborted.push(t);
      }
      this.pending.clear();
    } else if (fn === TaskManagementFunction.ABORT_TASK && tag !== undefined && this.pending.has(tag)) {
      this.pending.get(tag)?.reject(new AbortedError(`tag ${tag}`));
      this.pending.delete(tag);
      aborted.push(tag);
    }
    return Promise.resolve({
      fn,
      response: TmfResponse.FUNCTION_COMPLETE,
      responseName: tmfResponseName(0),
      aborted,
    });
  }

  close(): Promise<void> {
    this.closed = true;
    for (const [t, p] of this.pending) p.reject(new AbortedError(`tag ${t} (closed)`));
    this.pending.clear();
    return Promise.resolve();
  }
}

/** Lets pending promise callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
