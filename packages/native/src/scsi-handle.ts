/**
 * {@link ScsiHandle}: an open sg, bsg or block device node and everything the addon can
 * do with it: SG_IO requests (v4 on bsg, v3 on sg and block devices, down-converted from
 * the canonical sg_io_v4) as promises, synchronously, in batches or prepared once and run
 * many times; the mmap-ed sg reserved buffer; the sg ioctls.
 * @module
 */
import { markAsUntransferable } from 'node:worker_threads';
import { decodeSgIoV4, encodeSgIoV4, InvalidFieldError, type SgIoV4Header } from '@sgv4/core';
import { AbortRegistry, COMPLETED } from './abort-registry.js';
import type {
  HandleCapabilities,
  HandleStats,
  NativeCommand,
  NativeData,
  NativeHandle,
  NodeKind,
  SgRequestInfo,
  SgScsiId,
} from './binding.js';
import { loadAddon } from './load-addon.js';
import { allocateBuffer } from './native-memory.js';
import { nativeCommandOf, PreparedCommand } from './prepared-command.js';
import { SgIoctl } from './sg-ioctls.js';

/** Environment variable: `1` turns {@link OpenOptions.captureStacks} on for every handle. */
export const CAPTURE_STACKS_ENV = 'SGV4_CAPTURE_STACKS';

/** How to open a node. */
export interface OpenOptions {
  /** O_RDWR instead of O_RDONLY (default false). sg filters commands only on non-O_RDWR fds. */
  readWrite?: boolean;
  /**
   * O_NONBLOCK for open() itself (default false): sg then does not wait for host error
   * recovery or an O_EXCL holder. sg fds are switched to O_NONBLOCK after open anyway (the
   * addon's reads must never sleep); bsg and block fds keep the flag as given.
   */
  nonBlocking?: boolean;
  /** O_EXCL (default false); sg refuses it with O_RDONLY (EPERM). */
  exclusive?: boolean;
  /**
   * Debugging aid (default false, or `SGV4_CAPTURE_STACKS=1`): asynchronous failures get the
   * stack of the call that submitted the request. Costs a stack capture and a promise per
   * request, so it is off on the hot path.
   */
  captureStacks?: boolean;
}

/** One request: the canonical sg_io_v4 plus the buffers its pointers stand for. */
export interface SgIoRequest {
  /**
   * The sg_io_v4 header: a header object (encoded here) or its 160 encoded bytes, whose
   * output fields are then updated with the results. Pointer fields are ignored: the addon
   * fills them after checking every length against the buffers below. On sg, `requestExtra`
   * is not sent as pack_id: the addon numbers requests itself (its slot number).
   */
  header: SgIoV4Header | Uint8Array;
  /** The CDB (request_len bytes are sent). */
  cdb: Uint8Array;
  /** Sense buffer (max_response_len bytes at most are written). */
  sense?: Uint8Array;
  /** Data to the device: one buffer, or iovec segments (sg and block only). */
  dataOut?: Uint8Array | readonly Uint8Array[];
  /** Data from the device: one buffer, or iovec segments (sg and block only). */
  dataIn?: Uint8Array | readonly Uint8Array[];
  /**
   * Aborts the request: still queued in the library, it rejects at once with AbortedError
   * and is never sent; already in the kernel (which cannot abort it in Linux 6.1), it
   * rejects at once as abandoned and keeps its buffers until the kernel completes it.
   */
  signal?: AbortSignal;
}

/** Options of {@link ScsiHandle.close}. */
export interface CloseOptions {
  /**
   * Reject the requests still in the kernel at once, as abandoned (AbortedError), instead
   * of waiting for their results (default false). The fd is closed, and close() resolves,
   * only once the kernel is done with them either way.
   */
  abandon?: boolean;
}

interface Encoded {
  bytes: Uint8Array;
  cdb: Uint8Array;
  sense: Uint8Array | null;
  dataOut: NativeData;
  dataIn: NativeData;
}

function encode(request: SgIoRequest): Encoded {
  const bytes = request.header instanceof Uint8Array ? request.header : encodeSgIoV4(request.header);
  return {
    bytes,
    cdb: request.cdb,
    sense: request.sense ?? null,
    dataOut: request.dataOut ?? null,
    dataIn: request.dataIn ?? null,
  };
}

/**
 * Gives an async failure the stack of the call that submitted the request (opt-in:
 * {@link OpenOptions.captureStacks}).
 */
function withCallSite<T>(promise: Promise<T>, site: { stack?: string }): Promise<T> {
  return promise.catch((error: unknown) => {
    if (error instanceof Error && site.stack !== undefined) {
      const frames = site.stack.slice(site.stack.indexOf('\n') + 1);
      error.stack = `${error.name}: ${error.message}\n${frames}`;
    }
    throw error;
  });
}

/**
 * An open device node. Create with {@link openScsiHandle}. Every method throws or
 * rejects with @sgv4/core errors: OsError (errno, code, syscall, path) for a failed
 * system call, InvalidFieldError (a RangeError) for a length or field the addon refuses
 * before any system call, AbortedError (canceled) for requests aborted, abandoned or
 * never sent because of close(). Promise methods never throw.
 *
 * Memory: any Uint8Array may carry data. {@link allocateBuffer} memory is used in place
 * everywhere; SharedArrayBuffer views in place on the sg queue and in synchronous calls;
 * other views in place in synchronous calls and through a native bounce buffer otherwise.
 * A view detached or resized while its request is in flight is never written: the request
 * rejects with InvalidFieldError naming it.
 */
export class ScsiHandle implements AsyncDisposable {
  /** The path opened. */
  readonly path: string;
  readonly #native: NativeHandle;
  readonly #aborts: AbortRegistry;
  readonly #captureStacks: boolean;

  /** Use {@link openScsiHandle}. */
  constructor(path: string, native: NativeHandle, captureStacks = false) {
    this.path = path;
    this.#native = native;
    this.#captureStacks = captureStacks;
    this.#aborts = new AbortRegistry(path, (id, reason) => native.abandon(id, reason));
  }

  /** sg, bsg, block or other (fstat at open). */
  get kind(): NodeKind {
    return this.#native.kind;
  }

  /** The file descriptor, -1 once close() was called. */
  get fd(): number {
    return this.#native.fd;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#native.closed;
  }

  /** Requests in the kernel or waiting in the library queue (abandoned ones included). */
  get inFlight(): number {
    return this.#native.inFlight;
  }

  /** What this handle can do (decided by its node kind). */
  get capabilities(): HandleCapabilities {
    return this.#native.capabilities;
  }

  /**
   * Why asynchronous requests cannot run any more: an OsError naming the failed call (e.g.
   * `read` EPERM, `poll` ENODEV when the device went away, `uv_poll_start`), else undefined.
   * Every request pending at the failure was rejected with the same error.
   */
  get failure(): Error | undefined {
    return this.#native.failure;
  }

  /** System calls and event-loop wake-ups made for this handle since open. */
  stats(): HandleStats {
    return this.#native.stats();
  }

  /**
   * Closes the handle. Requests still queued in the library reject with AbortedError
   * (never sent); requests in the kernel are waited for and settle with their real results
   * (or reject at once as abandoned with `abandon: true`); then the fd is closed and the
   * promise resolves. The reserved buffer is unmapped (its ArrayBuffer detached) at once.
   * A second close() returns the same promise; any other call on a closed handle is OsError
   * EBADF.
   */
  close(options: CloseOptions = {}): Promise<void> {
    return this.#native.close(options.abandon ?? false);
  }

  /** `await using handle = openScsiHandle(...)`: {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #start(
    header: Uint8Array,
    cdb: Uint8Array,
    sense: Uint8Array | null,
    dataOut: NativeData,
    dataIn: NativeData,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const native = this.#native;
    if (signal === undefined) return native.sgIo(header, cdb, sense, dataOut, dataIn, 0) ?? COMPLETED;
    return this.#aborts.track(signal, (id) => native.sgIo(header, cdb, sense, dataOut, dataIn, id));
  }

  #site(promise: Promise<void>, caller: (...args: never[]) => unknown): Promise<void> {
    if (!this.#captureStacks) return promise;
    const site: { stack?: string } = {};
    Error.captureStackTrace(site, caller);
    return withCallSite(promise, site);
  }

  /**
   * One request, a promise resolving with the decoded header holding the results. sg: the
   * write()/read() queue (never SG_IO, which a signal can make the kernel send twice);
   * bsg, block and other nodes, and an sg node opened read-only (write() needs O_RDWR):
   * SG_IO on one of the addon's threads, which block every signal.
   */
  sgIo(request: SgIoRequest): Promise<SgIoV4Header> {
    try {
      const e = encode(request);
      return this.#site(
        this.#start(e.bytes, e.cdb, e.sense, e.dataOut, e.dataIn, request.signal),
        this.sgIo,
      ).then(() => decodeSgIoV4(e.bytes));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The hot-path form of {@link ScsiHandle.sgIo}: the header is already encoded and the
   * results are left in `header` (decode with decodeSgIoV4 when needed).
   */
  sgIoEncoded(
    header: Uint8Array,
    cdb: Uint8Array,
    sense: Uint8Array | null,
    dataOut: NativeData,
    dataIn: NativeData,
    signal?: AbortSignal,
  ): Promise<void> {
    try {
      const promise = this.#start(header, cdb, sense, dataOut, dataIn, signal);
      return this.#captureStacks ? this.#site(promise, this.sgIoEncoded) : promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * One request on the calling thread (blocks it until the kernel completes the command).
   * sg: write() then the non-blocking read()/poll() of that request, so a signal can never
   * make the command run twice; other nodes: SG_IO, whose wait is uninterruptible. An sg
   * node opened read-only sends SG_IO with every blockable signal blocked for the call
   * (only SIGSTOP can still interrupt it, and the kernel then sends the command again).
   */
  sgIoSync(request: SgIoRequest): SgIoV4Header {
    const e = encode(request);
    this.#native.sgIoSync(e.bytes, e.cdb, e.sense, e.dataOut, e.dataIn);
    return decodeSgIoV4(e.bytes);
  }

  /** {@link ScsiHandle.sgIoSync} with an encoded header updated in place. */
  sgIoSyncEncoded(
    header: Uint8Array,
    cdb: Uint8Array,
    sense: Uint8Array | null,
    dataOut: NativeData,
    dataIn: NativeData,
  ): void {
    this.#native.sgIoSync(header, cdb, sense, dataOut, dataIn);
  }

  #requireSg(): InvalidFieldError | undefined {
    if (this.#native.kind === 'sg') return undefined;
    return new InvalidFieldError(
      'handle.kind',
      'the write()/read() async interface exists only on sg nodes in Linux 6.1',
      this.#native.kind,
    );
  }

  /**
   * The sg async interface explicitly (sg nodes only; {@link ScsiHandle.sgIo} uses it on sg
   * anyway). The addon numbers the requests (pack_id = one of 16 slots, the kernel's
   * per-fd limit); more than 16 at once wait in the library, so EDOM never surfaces. On an
   * sg node opened read-only there is no write(): requests go to SG_IO on addon threads.
   */
  submit(request: SgIoRequest): Promise<SgIoV4Header> {
    const refused = this.#requireSg();
    if (refused !== undefined) return Promise.reject(refused);
    return this.sgIo(request);
  }

  /** {@link ScsiHandle.submit} with an encoded header updated in place. */
  submitEncoded(
    header: Uint8Array,
    cdb: Uint8Array,
    sense: Uint8Array | null,
    dataOut: NativeData,
    dataIn: NativeData,
    signal?: AbortSignal,
  ): Promise<void> {
    const refused = this.#requireSg();
    if (refused !== undefined) return Promise.reject(refused);
    return this.sgIoEncoded(header, cdb, sense, dataOut, dataIn, signal);
  }

  /**
   * Several requests at once, one promise per request (same order), each resolving with its
   * decoded header. On sg the batch is sent with one writev() (a failing entry is sent
   * again alone with write() to learn its errno, and only it rejects); elsewhere each
   * request goes to an addon thread. A request refused by validation rejects alone.
   */
  submitMany(requests: readonly SgIoRequest[]): Promise<SgIoV4Header>[] {
    const results: Promise<SgIoV4Header>[] = new Array(requests.length);
    const flat: unknown[] = [];
    const ids: number[] = [];
    const sent: { index: number; bytes: Uint8Array; signal: AbortSignal | undefined; id: number }[] = [];
    requests.forEach((request, index) => {
      try {
        const signal = request.signal;
        if (signal?.aborted === true) {
          results[index] = Promise.reject(this.#aborts.alreadyAborted(signal));
          return;
        }
        const e = encode(request);
        const id = signal === undefined ? 0 : this.#aborts.nextId();
        flat.push(e.bytes, e.cdb, e.sense, e.dataOut, e.dataIn);
        ids.push(id);
        sent.push({ index, bytes: e.bytes, signal, id });
      } catch (error) {
        results[index] = Promise.reject(error);
      }
    });
    if (sent.length === 0) return results;
    let promises: Promise<void>[];
    try {
      promises = this.#native.submitMany(flat, ids);
    } catch (error) {
      for (const s of sent) results[s.index] = Promise.reject(error);
      return results;
    }
    sent.forEach((s, i) => {
      const promise = promises[i] as Promise<void>;
      if (s.signal !== undefined) this.#aborts.watch(s.signal, s.id, promise);
      results[s.index] = promise.then(() => decodeSgIoV4(s.bytes));
    });
    return results;
  }

  /**
   * Validates the request and pins its buffers once, for {@link PreparedCommand.run} again
   * and again (one write() and one promise per run on sg). Throws InvalidFieldError /
   * TypeError for a request the addon refuses, OsError EBADF on a closed handle.
   */
  prepare(request: Omit<SgIoRequest, 'signal'>): PreparedCommand {
    // A header object is encoded into native memory: the addon then writes each run's
    // results straight into it, without a JS call. (A `cdb` in allocateBuffer() memory is
    // read the same way; any other cdb view is read through a reference at every run.)
    let bytes: Uint8Array;
    if (request.header instanceof Uint8Array) {
      bytes = request.header;
    } else {
      bytes = allocateBuffer(160);
      bytes.set(encodeSgIoV4(request.header));
    }
    const native = this.#native.prepare(
      bytes,
      request.cdb,
      request.sense ?? null,
      request.dataOut ?? null,
      request.dataIn ?? null,
    );
    return new PreparedCommand(bytes, native, this.#aborts);
  }

  /**
   * Runs prepared commands of this handle as one batch (one writev() on sg); one promise
   * per command, same order. A command already running, released, from another handle or
   * not a PreparedCommand at all rejects alone.
   */
  runMany(commands: readonly PreparedCommand[], signal?: AbortSignal): Promise<void>[] {
    if (signal?.aborted === true) {
      const error = this.#aborts.alreadyAborted(signal);
      return commands.map(() => Promise.reject(error));
    }
    // Anything that is not a PreparedCommand is refused by the addon, on its own promise.
    const natives = commands.map((command) => nativeCommandOf(command) ?? (null as unknown as NativeCommand));
    const ids = signal === undefined ? null : commands.map(() => this.#aborts.nextId());
    const promises = this.#native.runMany(natives, ids);
    if (signal !== undefined && ids !== null) {
      promises.forEach((promise, i) => {
        this.#aborts.watch(signal, ids[i] as number, promise);
      });
    }
    return promises;
  }

  /** SG_GET_VERSION_NUM: 30536 for sg 3.5.36; bsg and block devices answer 30527. */
  getVersionNum(): number {
    return this.#native.ioctlGetInt(SgIoctl.SG_GET_VERSION_NUM);
  }

  /** SG_GET_SCSI_ID (sg only; bsg says ENOTTY). */
  getScsiId(): SgScsiId {
    return this.#native.getScsiId();
  }

  /** SG_GET_SG_TABLESIZE: the queue's max_segments. */
  getSgTablesize(): number {
    return this.#native.ioctlGetInt(SgIoctl.SG_GET_SG_TABLESIZE);
  }

  /** SG_SET_TIMEOUT, in USER_HZ ticks (100 per second on x86); negative -> EIO on sg. */
  setTimeout(ticks: number): void {
    this.#native.ioctlSetInt(SgIoctl.SG_SET_TIMEOUT, ticks);
  }

  /** SG_GET_TIMEOUT, in USER_HZ ticks. */
  getTimeout(): number {
    return this.#native.getTimeout();
  }

  /** SG_SET_COMMAND_Q (sg: per-fd command queueing, turned on again by every v3 write; bsg: max_queue, >= 1). */
  setCommandQ(value: number): void {
    this.#native.ioctlSetInt(SgIoctl.SG_SET_COMMAND_Q, value);
  }

  /** SG_GET_COMMAND_Q. */
  getCommandQ(): number {
    return this.#native.ioctlGetInt(SgIoctl.SG_GET_COMMAND_Q);
  }

  /** SG_GET_NUM_WAITING: completed requests not yet read(). */
  getNumWaiting(): number {
    return this.#native.ioctlGetInt(SgIoctl.SG_GET_NUM_WAITING);
  }

  /** SG_GET_PACK_ID: pack_id (the addon's slot number) of the oldest completed request, -1 if none. */
  getPackId(): number {
    return this.#native.ioctlGetInt(SgIoctl.SG_GET_PACK_ID);
  }

  /**
   * SG_SET_FORCE_PACK_ID: read() then returns only the request whose pack_id is asked for.
   * The addon works either way (its reads ask for pack_id -1: any request).
   */
  setForcePackId(on: boolean): void {
    this.#native.ioctlSetInt(SgIoctl.SG_SET_FORCE_PACK_ID, on ? 1 : 0);
  }

  /** SG_GET_REQUEST_TABLE: the fd's 16 request slots. */
  getRequestTable(): SgRequestInfo[] {
    return this.#native.getRequestTable();
  }

  /** SG_SET_KEEP_ORPHAN. */
  setKeepOrphan(on: boolean): void {
    this.#native.ioctlSetInt(SgIoctl.SG_SET_KEEP_ORPHAN, on ? 1 : 0);
  }

  /** SG_GET_KEEP_ORPHAN. */
  getKeepOrphan(): number {
    return this.#native.ioctlGetInt(SgIoctl.SG_GET_KEEP_ORPHAN);
  }

  /**
   * SG_SCSI_RESET with an SgScsiReset value (needs CAP_SYS_ADMIN and CAP_SYS_RAWIO), on this
   * thread: the call returns when the kernel's error handler is done with the reset, which for
   * a real LLD means waiting for the device (libiscsi waits up to lu_reset_timeout, 30 s, for
   * the target's TMF response). Quick checks (SgScsiReset.NOTHING) only; see {@link scsiResetAsync}.
   */
  scsiReset(value: number): void {
    this.#native.ioctlSetInt(SgIoctl.SG_SCSI_RESET, value);
  }

  /**
   * SG_SCSI_RESET on a thread-pool thread, resolving when the kernel is done
   * (drivers/scsi/scsi_error.c scsi_ioctl_reset runs the host's eh_*_reset_handler, which
   * sleeps until the device answers or the LLD's timeout passes): the event loop keeps
   * running meanwhile, so a target served by this same process (the iSCSI portal behind
   * Linux's initiator) can answer the task management function the kernel sends. It uses its
   * own duplicate of the fd, so close() may run meanwhile; the reset is not cancellable.
   * Rejects with OsError (EACCES without CAP_SYS_ADMIN and CAP_SYS_RAWIO, EIO when the reset
   * failed, ENOTTY on a node that has no SG_SCSI_RESET).
   */
  scsiResetAsync(value: number): Promise<void> {
    try {
      return this.#native.scsiResetAsync(value);
    } catch (error) {
      return Promise.reject(error); // a closed handle or a bad value: a rejection, like the rest
    }
  }

  /**
   * SG_GET_LOW_DMA: always 0 on Linux 6.1 (`sg_ioctl_common`, drivers/scsi/sg.c: the host's
   * low-DMA limit is no longer reported). Kept because sgv3 programs still ask.
   */
  getLowDma(): number {
    return this.#native.ioctlGetInt(SgIoctl.SG_GET_LOW_DMA);
  }

  /**
   * SG_GET_ACCESS_COUNT: 1 while the device exists, else 0 — a fake count since Linux 2.6
   * (`sg_ioctl_common`, drivers/scsi/sg.c). Kept because sgv3 programs still ask.
   */
  getAccessCount(): number {
    return this.#native.ioctlGetInt(SgIoctl.SG_GET_ACCESS_COUNT);
  }

  /** SG_EMULATED_HOST. */
  getEmulatedHost(): number {
    return this.#native.ioctlGetInt(SgIoctl.SG_EMULATED_HOST);
  }

  /** BLKSECTGET: max transfer, in bytes on sg and in 512-byte sectors on block devices. */
  blkSectGet(): number {
    return this.#native.blkSectGet();
  }

  /** SG_SET_RESERVED_SIZE (EBUSY once the fd was mmap-ed and the size changes). */
  setReservedSize(bytes: number): void {
    this.#native.ioctlSetInt(SgIoctl.SG_SET_RESERVED_SIZE, bytes);
  }

  /** SG_GET_RESERVED_SIZE. */
  getReservedSize(): number {
    return this.#native.ioctlGetInt(SgIoctl.SG_GET_RESERVED_SIZE);
  }

  /**
   * mmap()s the sg reserved buffer (MAP_SHARED, offset 0; length <= reserved size, else
   * ENOMEM) as a zero-copy ArrayBuffer. SG_FLAG_MMAP_IO requests (no data buffer) then
   * move their data through it. The ArrayBuffer is marked untransferable (Node 20 copies it
   * on postMessage/structuredClone, later versions refuse), and detached on unmap, close()
   * and environment teardown, before the munmap: nothing can touch the pages afterwards.
   */
  mapReservedBuffer(length: number): ArrayBuffer {
    const buffer = this.#native.mapReservedBuffer(length);
    markAsUntransferable(buffer);
    return buffer;
  }

  /** Detaches and unmaps the reserved buffer; false when it was not mapped. */
  unmapReservedBuffer(): boolean {
    return this.#native.unmapReservedBuffer();
  }

  /** Pending requests keep the process alive again (the default). */
  ref(): this {
    this.#native.ref();
    return this;
  }

  /**
   * Pending requests stop keeping the process alive. An idle handle never does: only a
   * request in flight holds the event loop.
   */
  unref(): this {
    this.#native.unref();
    return this;
  }
}

/** Opens a device node (O_CLOEXEC always). Throws OsError on failure (e.g. ENOENT, EACCES, EPERM). */
export function openScsiHandle(path: string, options: OpenOptions = {}): ScsiHandle {
  const addon = loadAddon();
  const native = new addon.NativeHandle(
    path,
    options.readWrite ?? false,
    options.nonBlocking ?? false,
    options.exclusive ?? false,
  );
  const captureStacks = options.captureStacks ?? process.env[CAPTURE_STACKS_ENV] === '1';
  return new ScsiHandle(path, native, captureStacks);
}
