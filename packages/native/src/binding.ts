/**
 * Hand-written declarations of the compiled addon's surface (`sgv4_native.node`,
 * C++ in `src/native/`). Only {@link loadAddon} sees these objects; the public API
 * wraps them in {@link ScsiHandle}, {@link PreparedCommand} and {@link allocateBuffer}.
 * `test/binding-surface.test.ts` compares these names with what the addon exports.
 * @module
 */

/** What an open node is, from fstat: sg (char major 21), bsg (char, bsg's major in /proc/devices), block, other. */
export type NodeKind = 'sg' | 'bsg' | 'block' | 'other';

/** A data argument: none, one flat buffer, or iovec segments (sg and block only). */
export type NativeData = Uint8Array | readonly Uint8Array[] | null;

/** `struct sg_scsi_id` as SG_GET_SCSI_ID fills it (include/scsi/sg.h). */
export interface SgScsiId {
  /** Host number (as in /proc/scsi). */
  hostNo: number;
  /** Channel. */
  channel: number;
  /** Target id. */
  scsiId: number;
  /** Logical unit number. */
  lun: number;
  /** Peripheral device type (0 = disk). */
  scsiType: number;
  /** Host's commands per LUN. */
  hCmdPerLun: number;
  /** Device queue depth. */
  dQueueDepth: number;
}

/** One `struct sg_req_info` entry of SG_GET_REQUEST_TABLE (always 16 entries). */
export interface SgRequestInfo {
  /** 0 unused, 1 written, 2 ready to read. */
  reqState: number;
  /** 1 when the request came from an interrupted SG_IO. */
  orphan: number;
  /** 1 when owned by SG_IO (not readable with read()). */
  sgIoOwned: number;
  /** Non-zero when the request has a problem (error). */
  problem: number;
  /** pack_id of the request (the addon's slot number on sg). */
  packId: number;
  /** Milliseconds since submission (in flight) or the duration (done). */
  duration: number;
}

/** What a handle can do, decided by its node kind. */
export interface HandleCapabilities {
  /** The SG_IO ABI: v4 (sg_io_v4) on bsg, v3 (sg_io_hdr) on sg, block and other nodes. */
  readonly abi: 'v3' | 'v4';
  /** sg's write()/read() queue (submit, submitMany, a poll handle); else SG_IO on the addon's threads. */
  readonly asyncQueue: boolean;
  /** Requests the kernel takes at once: 16 per sg fd (SG_MAX_QUEUE), else the addon's thread cap; more wait in the library. */
  readonly kernelQueueDepth: number;
  /** iovec data (sg and block; bsg in 6.1 ignores iovec counts). */
  readonly iovec: boolean;
  /** The mmap-able sg reserved buffer (SG_FLAG_MMAP_IO). */
  readonly mmapReserve: boolean;
  /** submitMany/runMany send a batch with one writev (sg). */
  readonly batchedSubmit: boolean;
}

/** System calls and event-loop wake-ups the addon made for one handle, counted since open. */
export interface HandleStats {
  /** Requests handed to the kernel. */
  readonly submitted: number;
  /** Requests the kernel gave back (abandoned ones included). */
  readonly completed: number;
  /** write() calls on sg. */
  readonly writeCalls: number;
  /** writev() calls on sg (batches). */
  readonly writevCalls: number;
  /** read()/readv() calls on sg, "nothing ready" (EAGAIN) answers included. */
  readonly readCalls: number;
  /** poll() calls: a synchronous sg call waiting, or a hang-up check after a spurious wake-up. */
  readonly pollCalls: number;
  /** SG_IO ioctls (bsg, block, other nodes), on the calling thread or a pool thread. */
  readonly ioctlCalls: number;
  /** Event-loop callbacks (uv_poll, uv_async) that completed at least one request of this handle. */
  readonly loopWakeups: number;
  /** Requests completed by the non-blocking drain right after a submission, without an event-loop turn. */
  readonly immediateCompletions: number;
  /** Bytes copied through bounce buffers (both directions). */
  readonly bouncedBytes: number;
  /** Requests that waited in the library queue for a free kernel slot. */
  readonly libraryQueued: number;
}

/** A prepared request (C++ `sgv4::NativeCommand`). */
export interface NativeCommand {
  /** A run is in flight. */
  readonly running: boolean;
  /**
   * Runs it once more; `abortId` non-zero registers it for {@link NativeHandle.abandon}.
   * undefined: it already completed fine inside this call (no promise was needed).
   */
  run(abortId: number): Promise<void> | undefined;
  /** Runs it on the calling thread. */
  runSync(): void;
  /** Unpins its buffers (after the run in flight, if any). */
  release(): void;
}

/** The native handle object (C++ `sgv4::DeviceHandle`). */
export interface NativeHandle {
  /** Node kind from fstat at open. */
  readonly kind: NodeKind;
  /** The fd, or -1 once close() was called. */
  readonly fd: number;
  /** Whether close() was called. */
  readonly closed: boolean;
  /** Requests in the kernel or waiting in the library queue (abandoned ones included). */
  readonly inFlight: number;
  /** Why asynchronous requests cannot run any more (an OsError), else undefined. */
  readonly failure: Error | undefined;
  /** What the handle can do. */
  readonly capabilities: HandleCapabilities;
  /** Counters since open. */
  stats(): HandleStats;
  /** Closes once the kernel is done (abandon: reject in-kernel requests now); same promise on a second call. */
  close(abandon: boolean): Promise<void>;
  /** One request on the calling thread (sg: write() + read(); others: SG_IO). */
  sgIoSync(
    header: Uint8Array,
    cdb: Uint8Array,
    sense: Uint8Array | null,
    dataOut: NativeData,
    dataIn: NativeData,
  ): void;
  /**
   * One request, a promise (sg: the write()/read() queue; others: SG_IO on a pool thread);
   * undefined when it already completed fine inside this call.
   */
  sgIo(
    header: Uint8Array,
    cdb: Uint8Array,
    sense: Uint8Array | null,
    dataOut: NativeData,
    dataIn: NativeData,
    abortId: number,
  ): Promise<void> | undefined;
  /** A batch (5 values per request, flattened), one writev on sg; one promise per request. */
  submitMany(flat: readonly unknown[], abortIds: readonly number[] | null): Promise<void>[];
  /** Validates and pins once. */
  prepare(
    header: Uint8Array,
    cdb: Uint8Array,
    sense: Uint8Array | null,
    dataOut: NativeData,
    dataIn: NativeData,
  ): NativeCommand;
  /** Runs prepared commands as one batch. */
  runMany(commands: readonly NativeCommand[], abortIds: readonly number[] | null): Promise<void>[];
  /** Abandons the request registered with `abortId`; false when it is already settled. */
  abandon(abortId: number, reason: unknown): boolean;
  /** An int-returning ioctl from the addon's list. */
  ioctlGetInt(request: number): number;
  /** An int-taking ioctl from the addon's list. */
  ioctlSetInt(request: number, value: number): void;
  /** SG_SCSI_RESET on a thread-pool thread, with a duplicate of the fd. */
  scsiResetAsync(value: number): Promise<void>;
  /** SG_GET_TIMEOUT (USER_HZ ticks, the ioctl's return value). */
  getTimeout(): number;
  /** SG_GET_SCSI_ID. */
  getScsiId(): SgScsiId;
  /** SG_GET_REQUEST_TABLE. */
  getRequestTable(): SgRequestInfo[];
  /** BLKSECTGET (bytes on sg, sectors on block devices). */
  blkSectGet(): number;
  /** mmap of the sg reserved buffer as an external ArrayBuffer. */
  mapReservedBuffer(length: number): ArrayBuffer;
  /** Detach + munmap; false when nothing was mapped. */
  unmapReservedBuffer(): boolean;
  /** Pending requests keep the event loop alive (the default). */
  ref(): NativeHandle;
  /** Pending requests no longer keep the event loop alive. */
  unref(): NativeHandle;
}

/** Constructor of {@link NativeHandle}: opens with O_CLOEXEC plus the given flags. */
export type NativeHandleConstructor = new (
  path: string,
  readWrite: boolean,
  nonBlocking: boolean,
  exclusive: boolean,
) => NativeHandle;

/** Options of a new ring (validated again by the addon). */
export interface NativeRingSpec {
  /** sg or bsg node. */
  path: string;
  /** Submission entries (power of two). */
  entries: number;
  /** Commands in the kernel at once. */
  queueDepth: number;
  /** Registered buffers. */
  bufferCount: number;
  /** Bytes per registered buffer. */
  bufferSize: number;
  /** Producer (JS thread) slots. */
  producers: number;
  /** sg consumer's busy-poll before sleeping, microseconds. */
  spinMicros: number;
  /** sg: mmap-ed reserve slots. */
  mmapSlots: number;
  /** sg: most commands in the kernel that the submitting thread's loop reaps (0: never). */
  loopReapDepth: number;
  /** Durations from the consumer's clock (else the kernel's, in ms). */
  timing: boolean;
}

/** One JS thread's attachment to a ring (`src/native/ring_binding.cc`). */
export interface NativeRing {
  /** The shared control block (header, counters, producer table, SQ, CQs). */
  control(): ArrayBuffer;
  /** The registered buffers, back to back (bufferSize each). */
  buffers(): ArrayBuffer;
  /** mmap-ed reserve slot `index` (sg). */
  mmapBuffer(index: number): ArrayBuffer;
  /** Wakes the consumer if it sleeps (`count` new entries); sg submits inline: true = completions to reap now. */
  doorbell(count: number): boolean;
  /** Wakes every attached thread's completion callback (credits came back). */
  kick(): void;
  /** Closes the ring for every producer; consumers exit once drained. */
  shutdown(): void;
  /** Ends this attachment (the owner's also shuts the ring down). */
  detach(): void;
  /** Whether the completion handle keeps the event loop alive. */
  setRef(refed: boolean): void;
  /** The consumers have exited. */
  readonly stopped: boolean;
  /** This attachment's producer (completion queue) index. */
  readonly producer: number;
  /** The ring's process-wide id. */
  readonly id: number;
  /** Consumer kind. */
  readonly kind: 'sg' | 'bsg';
  /** The node. */
  readonly path: string;
}

/** Constructor of {@link NativeRing}: opens a ring, or attaches to one by id. */
export type NativeRingConstructor = new (
  spec: NativeRingSpec | { id: number },
  onCompletions: (stopped: boolean) => void,
) => NativeRing;

/** The module object the addon exports. */
export interface NativeAddon {
  /** The handle class. */
  NativeHandle: NativeHandleConstructor;
  /** The prepared-command class (instances come from {@link NativeHandle.prepare} only). */
  NativeCommand: abstract new (
    ...args: never[]
  ) => NativeCommand;
  /** Installs the error factories (per Node environment). */
  configure(
    osError: (errno: number, syscall: string, path: string | undefined) => Error,
    invalidField: (field: string, rule: string, value: number) => Error,
    aborted: (what: string, reason: unknown) => Error,
  ): void;
  /** Page-aligned native memory as an external ArrayBuffer. */
  allocateBuffer(length: number): ArrayBuffer;
  /** The ring class. */
  NativeRing: NativeRingConstructor;
  /** The ring layout constants (ring_layout.h), to check the TypeScript mirror. */
  ringLayout(): Record<string, number>;
}
