/**
 * The SgV3 facade: an sg file descriptor for sgv3-style code, on any {@link ScsiExecutor} (a
 * Device of the device API on `emu:`, bsg, sg or a block node). `ioctl(SG_IO, hdr)`,
 * `write(hdr)` / `read()` with pack_ids, O_NONBLOCK, `poll()`, the SG_GET / SG_SET ioctls,
 * `mmap()` of the reserved buffer and SG_FLAG_MMAP_IO behave as the Linux 6.1 sg driver
 * (drivers/scsi/sg.c, sg 3.5.36) does, because every rule comes from one place, the per-fd
 * model {@link SgFdModel}; the facade only does what the kernel does between the model's steps:
 * fetch the CDB, move the data through the kernel buffer the model chose (the reserve, a
 * private buffer or the caller's pages), run the command on the executor, and copy data, sense
 * and the header back when the reply is read.
 *
 * Where the facade departs from the kernel unless `kernelExact` is set:
 * - SG_FLAG_MMAP_IO before any successful mmap() is an {@link InvalidFieldError} on `flags`
 *   (the kernel accepts it and moves the reserve's stale contents: the sg HOWTO's warning).
 * - SG_DXFER_TO_FROM_DEV through a kernel buffer runs as sg documents it (the caller's bytes
 *   copied in, the command, the whole buffer copied back), where 6.1.80+ kernels fail it with
 *   ENOMEM or EINVAL (block/blk-map.c `bio_copy_user_iov()`, see {@link SgFdOptions.toFromDev}).
 * @module
 */
import {
  AbortedError,
  defaultQueueLimits,
  InvalidFieldError,
  type PermissionOpenMode,
  SCSI_SENSE_BUFFERSIZE,
  type ScsiResponse,
  SG_FLAG_MMAP_IO,
  SG_GET_COMMAND_Q,
  SG_GET_KEEP_ORPHAN,
  SG_GET_NUM_WAITING,
  SG_GET_PACK_ID,
  SG_GET_REQUEST_TABLE,
  SG_GET_RESERVED_SIZE,
  SG_GET_SCSI_ID,
  SG_GET_SG_TABLESIZE,
  SG_GET_TIMEOUT,
  SG_GET_VERSION_NUM,
  SG_INTERFACE_ID_ORIG,
  SG_IO,
  SG_NEXT_CMD_LEN,
  SG_SET_COMMAND_Q,
  SG_SET_FORCE_PACK_ID,
  SG_SET_KEEP_ORPHAN,
  SG_SET_RESERVED_SIZE,
  SG_SET_TIMEOUT,
  type SgEnvironment,
  TimeoutError,
  type TransferDirection,
} from '@sgv4/core';
import type { SgAbi } from '../abi/c-abi.js';
import { AddressSpace, type UserMemory } from '../memory/user-memory.js';
import { SgFdModel, type SgRequestSlot, type SgSubmitCall } from '../model/sg-fd-model.js';
import type { ScsiExecutor, ScsiExecutorRequest } from '../scsi-executor.js';
import { SgDriverError } from '../sg-driver-error.js';
import {
  COMPAT_SG_IO_HDR_SIZE,
  createSgIoHdr,
  decodeSgIoHdr,
  encodeSgIoHdr,
  SG_IO_HDR_SIZE,
  type SgIoHdr,
  sgIoHdrAbiOf,
} from '../structs/sg-io-hdr.js';
import { encodeSgRequestTable, type SgReqInfo } from '../structs/sg-req-info.js';
import { encodeSgScsiId, type SgScsiId } from '../structs/sg-scsi-id.js';
import { fetchSgV3Cdb, type SgV3Context, translateSgIoHdr } from '../translate/request-from-v3.js';
import { responseFromSgV3Result } from '../translate/result.js';

/**
 * A v3 request given as buffers instead of addresses: what a TypeScript caller writes when it
 * has no C struct to port. The facade maps the buffers into an address space of its own, so
 * the request takes exactly the path an 88-byte header with pointers takes.
 */
export interface SgV3Buffers {
  /** `interface_id` (default `'S'`). */
  readonly interfaceId?: number;
  /** SG_DXFER_*. */
  readonly dxferDirection: number;
  /** The CDB (`cmdp`); `cmd_len` is its length unless `cmdLen` says otherwise. */
  readonly cmd: Uint8Array;
  /** `cmd_len` (default `cmd.length`). */
  readonly cmdLen?: number;
  /** The data: one buffer, or iovecs (`iovec_count` = their number). Absent for SG_FLAG_MMAP_IO. */
  readonly data?: Uint8Array | readonly Uint8Array[];
  /** `dxfer_len` (default: the data's length, 0 without data). */
  readonly dxferLen?: number;
  /** The sense buffer (`sbp`); `mx_sb_len` is its length (at most 255) unless `mxSbLen` says otherwise. */
  readonly sense?: Uint8Array;
  /** `mx_sb_len`. */
  readonly mxSbLen?: number;
  /** `timeout` in ms (0 = the device's default). */
  readonly timeout?: number;
  /** SG_FLAG_* bits. */
  readonly flags?: number;
  /** `pack_id` (default -1). */
  readonly packId?: number;
  /** `usr_ptr`, returned as given (default 0). */
  readonly usrPtr?: bigint;
}

/**
 * A header as the facade takes it: the 88-byte (LP64) or 64-byte (ILP32) struct whose pointers
 * name buffers of the facade's `memory`; the same as an {@link SgIoHdr} object; or
 * {@link SgV3Buffers}.
 */
export type SgV3Header = Uint8Array | SgIoHdr | SgV3Buffers;

/** A completed request as read() or SG_IO return it: the whole header and the sense written at sbp. */
export interface SgV3Reply extends SgIoHdr {
  /** The `sbLenWr` sense bytes (also written at `sbp` / into {@link SgV3Buffers.sense}). */
  readonly sense: Uint8Array;
}

/** The SG_GET_SCSI_ID answer's device facts (the rest of sg_scsi_id). */
export type SgScsiIdFacts = Omit<SgScsiId, 'unused'>;

/** How an {@link SgV3File} is opened. */
export interface SgV3OpenOptions {
  /** The device's queue limits and sg's buffer parameters (default: the core's default limits). */
  readonly env?: SgEnvironment;
  /** The caller's ABI for headers given as objects and for read() replies (default `lp64`). */
  readonly abi?: SgAbi;
  /** The caller's memory: where the pointers of 88/64-byte headers and {@link SgIoHdr} objects lead. */
  readonly memory?: UserMemory;
  /** O_ACCMODE (default read-write). */
  readonly openMode?: PermissionOpenMode;
  /** O_NONBLOCK: read() with nothing ready fails with EAGAIN. */
  readonly nonBlocking?: boolean;
  /** sg's `def_reserved_size` (default 32768). */
  readonly defReservedSize?: number;
  /** sg's `allow_dio` (default false). */
  readonly allowDio?: boolean;
  /** CAP_SYS_RAWIO (the SG_IO command filter of a read-only fd lets everything through). */
  readonly capSysRawio?: boolean;
  /** What SG_GET_SCSI_ID reports (default: 0:0:0:0, the `deviceType` or 0, cmd_per_lun and queue depth 1). */
  readonly scsiId?: Partial<SgScsiIdFacts>;
  /**
   * Reproduce the kernel where the facade would otherwise help: SG_FLAG_MMAP_IO before mmap()
   * runs on the unmapped reserve, and SG_DXFER_TO_FROM_DEV through a kernel buffer fails as on
   * Linux 6.1.80+ (ENOMEM or EINVAL; unless `toFromDev` says otherwise). Default false.
   */
  readonly kernelExact?: boolean;
  /** SG_DXFER_TO_FROM_DEV on the indirect path (default: `kernel` with kernelExact, else `documented`). */
  readonly toFromDev?: 'kernel' | 'documented';
  /** The clock, in ms (default `performance.now()`): durations and the request table use it. */
  readonly now?: () => number;
}

/** Options of a call that may wait. */
export interface SgV3WaitOptions {
  /** Interrupts the wait, as a signal interrupts the system call (EINTR). */
  readonly signal?: AbortSignal;
}

/** What read() reads into: a header buffer (its length is read()'s count), or a pack_id and count. */
export type SgV3ReadTarget = Uint8Array | { readonly packId?: number; readonly count?: number };

/** ioctls answered with an int. */
export type SgIntGetIoctl =
  | typeof SG_GET_NUM_WAITING
  | typeof SG_GET_PACK_ID
  | typeof SG_GET_COMMAND_Q
  | typeof SG_GET_RESERVED_SIZE
  | typeof SG_GET_KEEP_ORPHAN
  | typeof SG_GET_TIMEOUT
  | typeof SG_GET_VERSION_NUM
  | typeof SG_GET_SG_TABLESIZE;

/** ioctls that take an int. */
export type SgIntSetIoctl =
  | typeof SG_SET_FORCE_PACK_ID
  | typeof SG_SET_COMMAND_Q
  | typeof SG_SET_RESERVED_SIZE
  | typeof SG_SET_KEEP_ORPHAN
  | typeof SG_SET_TIMEOUT
  | typeof SG_NEXT_CMD_LEN;

/** DID_ERROR / DID_TIME_OUT / DID_ABORT (include/scsi/scsi_status.h host bytes). */
const DID_TIME_OUT = 0x03;
const DID_ABORT = 0x05;
const DID_ERROR = 0x07;

/** One submitted request and what the facade must do when it is read. */
interface Submission {
  readonly slot: SgRequestSlot;
  readonly hdr: SgIoHdr;
  readonly abi: SgAbi;
  readonly memory: UserMemory;
  /** The caller's data, one view per segment (empty when null-mapped or direct). */
  readonly user: readonly Uint8Array[];
  /** The kernel buffer the device transferred (reserve or private), copied back to `user` on read. */
  readonly kernelBuffer: Uint8Array | undefined;
  readonly copyBack: boolean;
  readonly release: () => void;
  /** Resolves when the executor settled (completion recorded in the model). */
  readonly completed: Promise<void>;
  /** The executor's rejection, when the request failed below the SCSI level. */
  failure: unknown;
}

/** A header normalized to an SgIoHdr with its memory. */
interface Normalized {
  readonly hdr: SgIoHdr;
  readonly abi: SgAbi;
  readonly memory: UserMemory;
  /** The 88/64 bytes to write the reply header back into (SG_IO), when given as bytes. */
  readonly bytes: Uint8Array | undefined;
  readonly release: () => void;
}

function isBuffers(header: SgV3Header): header is SgV3Buffers {
  return !(header instanceof Uint8Array) && 'cmd' in header;
}

function copySegments(from: readonly Uint8Array[], to: Uint8Array): void {
  let at = 0;
  for (const segment of from) {
    if (at >= to.length) break;
    const n = Math.min(segment.length, to.length - at);
    to.set(segment.subarray(0, n), at);
    at += n;
  }
}

function scatter(from: Uint8Array, to: readonly Uint8Array[]): void {
  let at = 0;
  for (const segment of to) {
    if (at >= from.length) break;
    const n = Math.min(segment.length, from.length - at);
    segment.set(from.subarray(at, at + n));
    at += n;
  }
}

/** The response standing for a request that failed below the SCSI level: the host byte sg reports. */
function responseOfFailure(error: unknown, direction: TransferDirection, length: number): ScsiResponse {
  const host =
    error instanceof TimeoutError ? DID_TIME_OUT : error instanceof AbortedError ? DID_ABORT : DID_ERROR;
  return responseFromSgV3Result(
    {
      status: 0,
      maskedStatus: 0,
      msgStatus: 0,
      sbLenWr: 0,
      hostStatus: host,
      driverStatus: 0,
      resid: length,
      duration: 0,
      info: 0,
    },
    new Uint8Array(0),
    direction,
  );
}

/**
 * An sg file descriptor over a {@link ScsiExecutor}. See the module description; every
 * refusal is an {@link SgDriverError} (an OsError with the kernel's errno and code, the rule
 * and the sg.c function), except what the kernel cannot say (bad arguments to the facade
 * itself, SG_FLAG_MMAP_IO before mmap() when not `kernelExact`): {@link InvalidFieldError}.
 */
export class SgV3File {
  /** The per-fd state and rules (read it, do not drive it). */
  readonly model: SgFdModel;
  /** Whether kernel behaviour is reproduced where the facade would otherwise help. */
  readonly kernelExact: boolean;
  /** The caller's ABI for object headers and read() replies. */
  readonly abi: SgAbi;
  readonly #executor: ScsiExecutor;
  readonly #memory: UserMemory;
  readonly #own = new AddressSpace({ abi: 'lp64' });
  readonly #now: () => number;
  readonly #scsiId: SgScsiIdFacts;
  readonly #submissions = new Map<SgRequestSlot, Submission>();
  #reserve: ArrayBuffer;
  #nextTag = 1n;
  #wake: (() => void)[] = [];

  /** Opens the facade on `executor` (a Device is one). */
  constructor(executor: ScsiExecutor, options: SgV3OpenOptions = {}) {
    if (executor === null || typeof executor !== 'object' || typeof executor.submit !== 'function') {
      throw new InvalidFieldError('executor', 'must have a submit(request) method (a Device)', executor);
    }
    this.#executor = executor;
    this.kernelExact = options.kernelExact ?? false;
    this.abi = options.abi ?? 'lp64';
    this.#memory = options.memory ?? new AddressSpace({ abi: this.abi });
    this.#now = options.now ?? (() => performance.now());
    this.model = new SgFdModel({
      env: options.env ?? { limits: defaultQueueLimits() },
      ...(options.defReservedSize !== undefined ? { defReservedSize: options.defReservedSize } : {}),
      ...(options.allowDio !== undefined ? { allowDio: options.allowDio } : {}),
      ...(options.openMode !== undefined ? { openMode: options.openMode } : {}),
      ...(options.nonBlocking !== undefined ? { nonBlocking: options.nonBlocking } : {}),
      ...(options.capSysRawio !== undefined ? { capSysRawio: options.capSysRawio } : {}),
      ...(options.scsiId?.scsiType !== undefined ? { deviceType: options.scsiId.scsiType } : {}),
      toFromDev: options.toFromDev ?? (this.kernelExact ? 'kernel' : 'documented'),
    });
    this.#scsiId = {
      hostNo: 0,
      channel: 0,
      scsiId: 0,
      lun: 0,
      scsiType: 0,
      hCmdPerLun: 1,
      dQueueDepth: 1,
      ...options.scsiId,
    };
    this.#reserve = new ArrayBuffer(this.model.reserve.buffer.bufflen);
  }

  /** The reserved buffer's bytes (what mmap() maps), rebuilt zeroed when its size changes (`sg_build_reserve()`). */
  get #reserveBytes(): Uint8Array {
    const length = this.model.reserve.buffer.bufflen;
    if (this.#reserve.byteLength !== length) this.#reserve = new ArrayBuffer(length);
    return new Uint8Array(this.#reserve);
  }

  /** Requests submitted and not yet read (SG_IO's in flight included). */
  get outstanding(): number {
    return this.model.requests.length;
  }

  /** SG_IO: submits the header and waits for its reply. */
  ioctl(request: typeof SG_IO, header: SgV3Header, options?: SgV3WaitOptions): Promise<SgV3Reply>;
  /** SG_GET_REQUEST_TABLE: the 16 entries (also encoded into `table` when given, in the facade's ABI). */
  ioctl(request: typeof SG_GET_REQUEST_TABLE, table?: Uint8Array): SgReqInfo[];
  /** SG_GET_SCSI_ID (also encoded into `id` when given). */
  ioctl(request: typeof SG_GET_SCSI_ID, id?: Uint8Array): SgScsiId;
  /** The SG_GET_* ioctls that answer an int. */
  ioctl(request: SgIntGetIoctl): number;
  /** The SG_SET_* ioctls that take an int. */
  ioctl(request: SgIntSetIoctl, value: number): 0;
  ioctl(
    request: number,
    arg?: SgV3Header | Uint8Array | number,
    options?: SgV3WaitOptions,
  ): Promise<SgV3Reply> | SgReqInfo[] | SgScsiId | number {
    const call = (name: string) => `ioctl(${name})`;
    if (this.model.closed) throw new SgDriverError('EBADF', 'ioctl', 'the fd is closed', 'fdget');
    switch (request) {
      case SG_IO:
        if (arg === undefined || typeof arg === 'number') {
          return Promise.reject(new InvalidFieldError('header', 'SG_IO needs an sg_io_hdr', arg));
        }
        return this.sgIo(arg, options);
      case SG_GET_REQUEST_TABLE: {
        const table = this.model.requestTable(this.#now());
        if (arg instanceof Uint8Array) encodeSgRequestTable(table, this.abi, arg);
        return table;
      }
      case SG_GET_SCSI_ID: {
        const id: SgScsiId = { ...this.#scsiId, unused: [0, 0] };
        if (arg instanceof Uint8Array) encodeSgScsiId(id, this.abi, arg);
        return id;
      }
      case SG_GET_NUM_WAITING:
        return this.model.numWaiting();
      case SG_GET_PACK_ID:
        return this.model.packIdOfFirstReply();
      case SG_GET_COMMAND_Q:
        return this.model.commandQueueing ? 1 : 0;
      case SG_GET_RESERVED_SIZE:
        return this.model.getReservedSize();
      case SG_GET_KEEP_ORPHAN:
        return this.model.getKeepOrphan();
      case SG_GET_TIMEOUT:
        return this.model.getTimeout();
      case SG_GET_VERSION_NUM:
        return this.model.getVersionNum();
      case SG_GET_SG_TABLESIZE:
        return this.model.getSgTablesize();
    }
    if (typeof arg !== 'number' || !Number.isSafeInteger(arg)) {
      throw new InvalidFieldError('value', 'must be an integer (the int the ioctl reads)', arg);
    }
    switch (request) {
      case SG_SET_FORCE_PACK_ID:
        this.model.setForcePackId(arg);
        return 0;
      case SG_SET_COMMAND_Q:
        this.model.setCommandQueueing(arg);
        return 0;
      case SG_SET_RESERVED_SIZE:
        this.model.setReservedSize(arg);
        return 0;
      case SG_SET_KEEP_ORPHAN:
        this.model.setKeepOrphan(arg);
        return 0;
      case SG_SET_TIMEOUT:
        this.model.setTimeout(arg);
        return 0;
      case SG_NEXT_CMD_LEN:
        this.model.setNextCommandLength(arg);
        return 0;
    }
    throw new SgDriverError(
      'ENOTTY',
      call(`0x${request.toString(16)}`),
      'an ioctl the facade does not implement (the sg driver passes unknown ones to the SCSI midlayer)',
      'sg_ioctl',
    );
  }

  /**
   * ioctl(SG_IO): the request is submitted (the same rules as write()), then the call waits for
   * it and reads it itself (SG_IO's request is never visible to read(), poll or
   * SG_GET_NUM_WAITING). An aborted `signal` is an interrupted wait: EINTR, and the request
   * becomes an orphan (dropped at completion unless SG_SET_KEEP_ORPHAN, then read() gets it).
   */
  async sgIo(header: SgV3Header, options: SgV3WaitOptions = {}): Promise<SgV3Reply> {
    const sub = this.#submit(header, 'SG_IO', undefined);
    const signal = options.signal;
    if (signal !== undefined && sub.slot.done === 0) {
      let onAbort: (() => void) | undefined;
      const interrupted = new Promise<'interrupted'>((resolve) => {
        onAbort = () => resolve('interrupted');
        if (signal.aborted) resolve('interrupted');
        else signal.addEventListener('abort', onAbort, { once: true });
      });
      const first = await Promise.race([sub.completed.then(() => 'completed' as const), interrupted]);
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
      if (first === 'interrupted' && this.model.orphan(sub.slot)) {
        throw new SgDriverError(
          'EINTR',
          'ioctl(SG_IO)',
          'the wait was interrupted; the request is now an orphan',
          'sg_ioctl_common',
        );
      }
    }
    await sub.completed;
    const count = sub.abi === 'ilp32' ? COMPAT_SG_IO_HDR_SIZE : SG_IO_HDR_SIZE;
    const normalizedBytes = header instanceof Uint8Array ? header : undefined;
    return this.#deliver(sub, count, sub.abi, normalizedBytes);
  }

  /**
   * write(2) of a v3 header: queues the request and returns the byte count as write() does
   * (`count`, default the header's size; the kernel wants 88 bytes even from a 32-bit caller).
   * The reply is collected with read().
   */
  write(header: SgV3Header, count?: number): number {
    const sub = this.#submit(header, 'write', count);
    return count ?? (sub.abi === 'ilp32' ? COMPAT_SG_IO_HDR_SIZE : SG_IO_HDR_SIZE);
  }

  /**
   * read(2): the first completed reply (under SG_SET_FORCE_PACK_ID the one with the pack_id the
   * target names, -1 = any); waits for one unless O_NONBLOCK (EAGAIN). A target buffer gets the
   * reply header (its length is the count: fewer bytes than the caller's header is EINVAL and
   * loses the reply, as in the kernel). Data and sense reach the request's buffers now, as the
   * kernel copies them at read time (`sg_finish_rem_req()`).
   */
  async read(target: SgV3ReadTarget = {}, options: SgV3WaitOptions = {}): Promise<SgV3Reply> {
    const size = this.abi === 'ilp32' ? COMPAT_SG_IO_HDR_SIZE : SG_IO_HDR_SIZE;
    let packId: number;
    let count: number;
    if (target instanceof Uint8Array) {
      count = target.length;
      const padded = new Uint8Array(size);
      padded.set(target.subarray(0, size));
      packId = decodeSgIoHdr(padded, this.abi).packId;
    } else {
      count = target.count ?? size;
      packId = target.packId ?? -1;
    }
    for (;;) {
      const slot = this.model.beginRead(packId);
      if (slot !== undefined) {
        const sub = this.#submissions.get(slot);
        if (sub === undefined) throw new Error('internal: a readable request without its submission');
        return this.#deliver(sub, count, this.abi, target instanceof Uint8Array ? target : undefined);
      }
      await this.#changed(options.signal, 'read');
    }
  }

  /** poll(2) with a zero timeout: the revents mask now (POLLIN|POLLRDNORM, POLLOUT|POLLWRNORM). */
  poll(): number {
    if (this.model.closed) throw new SgDriverError('EBADF', 'poll', 'the fd is closed', 'fdget');
    return this.model.poll();
  }

  /**
   * poll(2) with a timeout: resolves with the mask once it has a bit of `events` (default
   * POLLIN), or with the current mask after `timeoutMs` (default: wait for ever). It first lets
   * the event loop run once, so completions that are due arrive before the mask is read: a C
   * loop such as `while (num_waiting < n) poll(...)` ported as it is cannot starve the I/O it
   * waits for.
   */
  async pollWait(
    events = 0x001,
    options: SgV3WaitOptions & { readonly timeoutMs?: number } = {},
  ): Promise<number> {
    const deadline = options.timeoutMs === undefined ? undefined : this.#now() + options.timeoutMs;
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (;;) {
      const mask = this.poll();
      if ((mask & events) !== 0) return mask;
      const left = deadline === undefined ? undefined : deadline - this.#now();
      if (left !== undefined && left <= 0) return mask;
      await this.#changed(options.signal, 'poll', left);
    }
  }

  /**
   * mmap(2) of the reserve, MAP_SHARED at offset 0 (`sg_mmap()`): EINVAL for another offset,
   * ENOMEM when `length` rounded up to pages exceeds the reserve; EACCES when the fd's mode does
   * not allow the mapping. Returns the reserve's memory: an ArrayBuffer of the reserve's size
   * (at least `length`, rounded as the driver rounds the reserve), shared with every
   * SG_FLAG_MMAP_IO request of this fd. From then on SG_SET_RESERVED_SIZE with another size is
   * EBUSY, so the buffer stays valid for the fd's life.
   */
  mmap(
    length: number,
    options: { readonly pageOffset?: number; readonly writable?: boolean } = {},
  ): ArrayBuffer {
    if (!Number.isSafeInteger(length) || length <= 0) {
      // mm/mmap.c do_mmap(): a zero length is EINVAL before the driver sees it.
      throw new SgDriverError('EINVAL', 'mmap', `length ${length} is not a positive size`, 'do_mmap');
    }
    this.model.mmap(length, options.pageOffset ?? 0, options.writable ?? true);
    return this.#reserveBytes.buffer as ArrayBuffer;
  }

  /**
   * close(2) (`sg_release()`): the fd is gone; requests in flight finish on the device and are
   * dropped; waiting read()s and polls fail with EBADF.
   */
  close(): void {
    this.model.close();
    this.#notify();
  }

  /** Resolves once every request given to the executor has settled (for tests and shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.#submissions.values()].map((s) => s.completed));
  }

  #normalize(header: SgV3Header): Normalized {
    if (header instanceof Uint8Array) {
      const abi = sgIoHdrAbiOf(header);
      return { hdr: decodeSgIoHdr(header, abi), abi, memory: this.#memory, bytes: header, release: () => {} };
    }
    if (!isBuffers(header)) {
      if (typeof header !== 'object' || header === null || typeof header.cmdp !== 'bigint') {
        throw new InvalidFieldError('header', 'must be sg_io_hdr bytes, an SgIoHdr or SgV3Buffers', header);
      }
      return { hdr: { ...header }, abi: this.abi, memory: this.#memory, bytes: undefined, release: () => {} };
    }
    const own = this.#own;
    const mapped: bigint[] = [];
    const map = (bytes: Uint8Array | undefined): bigint => {
      if (bytes === undefined || bytes.length === 0) return 0n;
      const at = own.map(bytes);
      mapped.push(at);
      return at;
    };
    const release = () => {
      for (const at of mapped) own.unmap(at);
    };
    if (!(header.cmd instanceof Uint8Array)) {
      throw new InvalidFieldError('cmd', 'must be a Uint8Array (the CDB)', header.cmd);
    }
    if (header.sense !== undefined && !(header.sense instanceof Uint8Array)) {
      throw new InvalidFieldError('sense', 'must be a Uint8Array', header.sense);
    }
    const data = header.data;
    let dxferp = 0n;
    let iovecCount = 0;
    let length = 0;
    if (data instanceof Uint8Array) {
      dxferp = map(data);
      length = data.length;
    } else if (Array.isArray(data)) {
      const segments = data as readonly Uint8Array[];
      const iov = new Uint8Array(segments.length * 16);
      const view = new DataView(iov.buffer);
      segments.forEach((segment, i) => {
        if (!(segment instanceof Uint8Array)) {
          throw new InvalidFieldError(`data[${i}]`, 'must be a Uint8Array', segment);
        }
        view.setBigUint64(i * 16, map(segment), true);
        view.setBigUint64(i * 16 + 8, BigInt(segment.length), true);
        length += segment.length;
      });
      dxferp = map(iov);
      iovecCount = segments.length;
    } else if (data !== undefined) {
      throw new InvalidFieldError('data', 'must be a Uint8Array or an array of Uint8Array', data);
    }
    const hdr = createSgIoHdr({
      interfaceId: header.interfaceId ?? SG_INTERFACE_ID_ORIG,
      dxferDirection: header.dxferDirection,
      cmdLen: header.cmdLen ?? header.cmd.length,
      cmdp: map(header.cmd),
      mxSbLen: header.mxSbLen ?? Math.min(header.sense?.length ?? 0, 255),
      sbp: map(header.sense),
      dxferLen: header.dxferLen ?? length,
      dxferp,
      iovecCount,
      timeout: header.timeout ?? 0,
      flags: header.flags ?? 0,
      packId: header.packId ?? -1,
      usrPtr: header.usrPtr ?? 0n,
    });
    return { hdr, abi: 'lp64', memory: own, bytes: undefined, release };
  }

  /**
   * A v3 submission in the kernel's order: the model admits it (`sg_write()`/`sg_new_write()`:
   * sizes, the queue, interface_id, SG_FLAG_MMAP_IO, cmd_len), the CDB is fetched (EFAULT) and
   * filtered (`sg_allow_access()`), the model picks the data path (`sg_common_write()` ->
   * `sg_start_req()`), the caller's data is mapped (`blk_rq_map_user_io()`: EFAULT, EINVAL),
   * copied into the kernel buffer for data-out and TO_FROM_DEV, and the command goes to the
   * executor. A refusal frees the slot and throws.
   */
  #submit(header: SgV3Header, via: SgSubmitCall, count: number | undefined): Submission {
    const syscall = via === 'write' ? 'write' : 'ioctl(SG_IO)';
    if (this.model.closed) throw new SgDriverError('EBADF', syscall, 'the fd is closed', 'fdget');
    const n = this.#normalize(header);
    const tag = this.#nextTag++;
    let slot: SgRequestSlot | undefined;
    try {
      slot = this.model.admit(n.hdr, {
        via,
        abi: n.abi,
        tag,
        nowMs: this.#now(),
        ...(count !== undefined ? { count } : {}),
      });
      const mmapIo = (n.hdr.flags & SG_FLAG_MMAP_IO) !== 0;
      if (mmapIo && !this.model.reserve.mmapCalled && !this.kernelExact) {
        throw new InvalidFieldError(
          'flags',
          'SG_FLAG_MMAP_IO needs the reserve mmap()-ed first: the data lives there, and the kernel would move whatever the reserve holds (pass kernelExact to reproduce that)',
          n.hdr.flags,
        );
      }
      const ctx: SgV3Context = { abi: n.abi, memory: n.memory, interface: 'sg', syscall };
      const cdb = fetchSgV3Cdb(n.hdr, ctx);
      this.model.permit(slot, cdb);
      const path = this.model.start(slot);
      const reserve = this.#reserveBytes;
      const t = translateSgIoHdr(n.hdr, { ...ctx, tag, reserve });
      const data = t.v3.data;
      const direction = data.direction;
      let kernelBuffer: Uint8Array | undefined;
      let transfer: Uint8Array | readonly Uint8Array[] | undefined;
      if (path.kind === 'direct') {
        transfer = data.viaIovec ? t.v3.user : t.v3.user[0];
      } else if (path.kind === 'reserve') {
        kernelBuffer = reserve.subarray(0, data.length);
      } else if (path.kind === 'private') {
        kernelBuffer = new Uint8Array(data.length); // sg_build_indirect() pages are zeroed (__GFP_ZERO)
      }
      const copies = kernelBuffer !== undefined && !data.nullMapped;
      if (copies && (direction === 'to-device' || direction === 'to-from-device')) {
        // bio_copy_user_iov(): the caller's bytes go into the kernel buffer before the command.
        copySegments(t.v3.user, kernelBuffer as Uint8Array);
      }
      transfer ??= kernelBuffer;
      const request: ScsiExecutorRequest = {
        cdb: t.request.cdb,
        ...(transfer === undefined || path.kind === 'none'
          ? {}
          : direction === 'to-device'
            ? { dataOut: transfer }
            : { dataIn: transfer }),
        ...(t.request.queueAt !== undefined ? { queueAt: t.request.queueAt } : {}),
        ...(n.hdr.timeout > 0 ? { timeoutMs: n.hdr.timeout } : {}),
        // The kernel keeps SCSI_SENSE_BUFFERSIZE bytes whatever mx_sb_len says (sg_rq_end_io()).
        maxSenseLength: SCSI_SENSE_BUFFERSIZE,
      };
      const admitted = slot;
      const sub: Submission = {
        slot: admitted,
        hdr: n.hdr,
        abi: n.abi,
        memory: n.memory,
        user: path.kind === 'direct' ? [] : t.v3.user,
        kernelBuffer,
        copyBack: copies && direction !== 'to-device',
        release: n.release,
        completed: Promise.resolve(this.#executor.submit(request)).then(
          (response) => this.#completed(sub, response),
          (error: unknown) => {
            sub.failure = error;
            this.#completed(sub, responseOfFailure(error, direction, data.length));
          },
        ),
        failure: undefined,
      };
      this.#submissions.set(admitted, sub);
      return sub;
    } catch (error) {
      if (slot !== undefined) this.model.abandon(slot);
      n.release();
      throw error;
    }
  }

  /** `sg_rq_end_io()`: record the completion; a dropped orphan's resources go now. */
  #completed(sub: Submission, response: ScsiResponse): void {
    if (this.model.closed || !this.model.requests.includes(sub.slot) || sub.slot.done !== 0) {
      // The fd was closed, or the request is gone: the kernel frees it silently.
      this.#forget(sub);
      return;
    }
    const outcome = this.model.complete(sub.slot, response, this.#now());
    if (outcome.dropped) this.#forget(sub);
    this.#notify();
  }

  #forget(sub: Submission): void {
    this.#submissions.delete(sub.slot);
    sub.release();
  }

  /**
   * `sg_new_read()` for a request being read: data copied back (`sg_finish_rem_req()` ->
   * `blk_rq_unmap_user()`: the whole kernel buffer, as bio_uncopy_user() copies it), then a
   * count smaller than the caller's header is EINVAL (the reply is lost), the sense goes to sbp
   * (EFAULT when it cannot), the header to the caller.
   */
  #deliver(sub: Submission, count: number, abi: SgAbi, into: Uint8Array | undefined): SgV3Reply {
    this.#submissions.delete(sub.slot);
    try {
      if (sub.copyBack && sub.kernelBuffer !== undefined) scatter(sub.kernelBuffer, sub.user);
      const outcome = this.model.reply(sub.slot);
      this.model.finishRead(sub.slot, count, abi);
      const header: SgIoHdr = { ...sub.slot.header, ...outcome.result };
      if (outcome.sense.length > 0) {
        const at = sub.memory.view(sub.hdr.sbp, outcome.sense.length);
        if (at === undefined) {
          throw new SgDriverError(
            'EFAULT',
            sub.slot.sgIoOwned ? 'ioctl(SG_IO)' : 'read',
            'sbp does not point at mx_sb_len writable bytes',
            'sg_new_read',
          );
        }
        at.set(outcome.sense);
      }
      if (into !== undefined) {
        const size = abi === 'ilp32' ? COMPAT_SG_IO_HDR_SIZE : SG_IO_HDR_SIZE;
        const encoded = encodeSgIoHdr(header, abi);
        into.set(encoded.subarray(0, Math.min(size, into.length)));
      }
      return { ...header, sense: outcome.sense };
    } finally {
      sub.release();
      this.#notify();
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = [];
    for (const w of wake) w();
  }

  /** Waits for the next state change (a completion, a read, close), a signal (EINTR) or `timeoutMs`. */
  #changed(signal: AbortSignal | undefined, syscall: string, timeoutMs?: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.model.closed) {
        reject(new SgDriverError('EBADF', syscall, 'the fd was closed while waiting', 'sg_release'));
        return;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.#wake = this.#wake.filter((w) => w !== done);
        if (timer !== undefined) clearTimeout(timer);
        reject(new SgDriverError('EINTR', syscall, 'the wait was interrupted', 'sg_read'));
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) timer = setTimeout(done, Math.max(0, timeoutMs));
      this.#wake.push(done);
    });
  }
}
