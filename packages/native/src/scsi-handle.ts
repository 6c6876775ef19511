/**
 * {@link ScsiHandle}: an open sg, bsg or block device node and everything the addon can
 * do with it: SG_IO (v4 on bsg, v3 on sg and block devices, down-converted from the
 * canonical sg_io_v4), the sg async write()/read() queue, the mmap-ed reserved buffer
 * and the sg ioctls.
 * @module
 */
import { decodeSgIoV4, encodeSgIoV4, type SgIoV4Header } from '@sgv4/core';
import type { NativeData, NativeHandle, NodeKind, SgRequestInfo, SgScsiId } from './binding.js';
import { loadAddon } from './load-addon.js';
import { SgIoctl } from './sg-ioctls.js';

/** How to open a node. */
export interface OpenOptions {
  /** O_RDWR instead of O_RDONLY (default false). sg filters commands only on non-O_RDWR fds. */
  readWrite?: boolean;
  /** O_NONBLOCK (default false). */
  nonBlocking?: boolean;
  /** O_EXCL (default false); sg refuses it with O_RDONLY (EPERM). */
  exclusive?: boolean;
}

/** One request: the canonical sg_io_v4 plus the buffers its pointers stand for. */
export interface SgIoRequest {
  /**
   * The sg_io_v4 header: a header object (encoded here) or its 160 encoded bytes, which
   * are then updated in place with the results. Pointer fields are ignored: the addon
   * fills them from the buffers below after checking every length against them.
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
}

interface PreparedArgs {
  bytes: Uint8Array;
  cdb: Uint8Array;
  sense: Uint8Array | null;
  dataOut: NativeData;
  dataIn: NativeData;
}

function prepare(request: SgIoRequest): PreparedArgs {
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
 * Runs `start` and turns a synchronous throw (argument validation, which happens before
 * any system call) into a rejection, so promise-returning methods never throw.
 */
function settle<T>(start: () => Promise<T>): Promise<T> {
  try {
    return start();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** A stack captured where a promise-returning call was made. */
interface CallSite {
  stack?: string;
}

/**
 * Gives an async failure the stack of the call that submitted the request: the native
 * error is built when the kernel answers (on the main thread), but the stack captured
 * at submission is the one that tells the caller where the failing request came from.
 */
function withCallSite<T>(promise: Promise<T>, site: CallSite): Promise<T> {
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
 * before any system call, AbortedError (canceled) for requests cut off by close().
 */
export class ScsiHandle {
  /** The path opened. */
  readonly path: string;
  readonly #native: NativeHandle;

  /** Use {@link openScsiHandle}. */
  constructor(path: string, native: NativeHandle) {
    this.path = path;
    this.#native = native;
  }

  /** sg, bsg, block or other (fstat at open). */
  get kind(): NodeKind {
    return this.#native.kind;
  }

  /** The file descriptor, -1 once closed. */
  get fd(): number {
    return this.#native.fd;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#native.closed;
  }

  /** Requests the kernel still holds (threadpool SG_IO and sg async queue). */
  get inFlight(): number {
    return this.#native.inFlight;
  }

  /**
   * Closes the handle. In-flight requests reject with AbortedError; the fd itself is
   * closed (and their buffers released) only once the kernel has finished with them.
   * A second close() throws OsError EBADF. Unmaps the reserved buffer (detaching it).
   */
  close(): void {
    this.#native.close();
  }

  /**
   * SG_IO on the libuv threadpool: sg_io_v4 on bsg, sg_io_hdr (v3) on sg and block nodes.
   * Resolves with the decoded header holding the results. Every failure, argument
   * validation included, is a rejection.
   */
  sgIo(request: SgIoRequest): Promise<SgIoV4Header> {
    const site: CallSite = {};
    Error.captureStackTrace(site, this.sgIo);
    return settle(() => {
      const a = prepare(request);
      return withCallSite(
        this.#native.sgIo(a.bytes, a.cdb, a.sense, a.dataOut, a.dataIn).then(() => decodeSgIoV4(a.bytes)),
        site,
      );
    });
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
  ): Promise<void> {
    const site: CallSite = {};
    Error.captureStackTrace(site, this.sgIoEncoded);
    return settle(() => withCallSite(this.#native.sgIo(header, cdb, sense, dataOut, dataIn), site));
  }

  /** SG_IO on the calling thread (blocks it): for scripts. */
  sgIoSync(request: SgIoRequest): SgIoV4Header {
    const a = prepare(request);
    this.#native.sgIoSync(a.bytes, a.cdb, a.sense, a.dataOut, a.dataIn);
    return decodeSgIoV4(a.bytes);
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

  /**
   * The sg async interface: write() the request (pack_id = header `requestExtra`, which
   * must be unique among this fd's in-flight requests), completion through poll and
   * read(). The kernel allows 16 outstanding per fd (EDOM beyond; 1 until command
   * queueing is on, which the first v3 write turns on). sg nodes only.
   */
  submit(request: SgIoRequest): Promise<SgIoV4Header> {
    const site: CallSite = {};
    Error.captureStackTrace(site, this.submit);
    return settle(() => {
      const a = prepare(request);
      return withCallSite(
        this.#native.submit(a.bytes, a.cdb, a.sense, a.dataOut, a.dataIn).then(() => decodeSgIoV4(a.bytes)),
        site,
      );
    });
  }

  /** {@link ScsiHandle.submit} with an encoded header updated in place. */
  submitEncoded(
    header: Uint8Array,
    cdb: Uint8Array,
    sense: Uint8Array | null,
    dataOut: NativeData,
    dataIn: NativeData,
  ): Promise<void> {
    const site: CallSite = {};
    Error.captureStackTrace(site, this.submitEncoded);
    return settle(() => withCallSite(this.#native.submit(header, cdb, sense, dataOut, dataIn), site));
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

  /** SG_SET_COMMAND_Q (sg: per-fd command queueing; bsg: max_queue, >= 1). */
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

  /** SG_GET_PACK_ID: pack_id of the oldest completed request, -1 if none. */
  getPackId(): number {
    return this.#native.ioctlGetInt(SgIoctl.SG_GET_PACK_ID);
  }

  /** SG_SET_FORCE_PACK_ID: read() then returns only the request whose pack_id is asked for. */
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

  /** SG_SCSI_RESET with an SgScsiReset value (needs CAP_SYS_ADMIN and CAP_SYS_RAWIO). */
  scsiReset(value: number): void {
    this.#native.ioctlSetInt(SgIoctl.SG_SCSI_RESET, value);
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
   * move their data through it. Detached on unmap/close/teardown.
   */
  mapReservedBuffer(length: number): ArrayBuffer {
    return this.#native.mapReservedBuffer(length);
  }

  /** Detaches and unmaps the reserved buffer; false when it was not mapped. */
  unmapReservedBuffer(): boolean {
    return this.#native.unmapReservedBuffer();
  }

  /** In-flight async requests keep the process alive again (the default). */
  ref(): this {
    this.#native.ref();
    return this;
  }

  /**
   * In-flight sg async requests stop keeping the process alive. An idle handle never
   * does: only a request in flight holds the event loop.
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
  return new ScsiHandle(path, native);
}
