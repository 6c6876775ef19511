/**
 * The state the sg driver keeps for one open file descriptor (`struct sg_fd` in
 * drivers/scsi/sg.c, Linux 6.1, sg 3.5.36), and every rule that reads or changes it: the
 * request list and its 16 slots, command queueing, the reserved buffer and mmap, pack_id
 * matching, orphans, poll readiness, and the ioctls that report them.
 *
 * Pure and deterministic: no I/O, time comes in as milliseconds. A facade drives it through
 * a request's life (admit -> permit -> start -> dispatch -> complete -> read) and performs
 * what the kernel would do in between (fetch the CDB, map the data, run the command). Every
 * refusal is an {@link SgDriverError}: an OsError with the driver's errno, its rule and the
 * kernel function.
 *
 * Not modelled: the old sg_header (v2) interface, a device being detached (ENODEV, POLLHUP),
 * host error recovery (ENXIO), credential changes between open and read/write (EPERM in
 * `sg_check_file_access()`), SIGPOLL, and SG_SCSI_RESET.
 * @module
 */
import {
  decidePermission,
  InvalidFieldError,
  NotSupportedError,
  type PermissionOpenMode,
  type ScsiResponse,
  SG_DEF_RESERVED_SIZE,
  SG_FLAG_DIRECT_IO,
  SG_FLAG_MMAP_IO,
  SG_INTERFACE_ID_ORIG,
  SG_MAX_CDB_SIZE,
  SG_MAX_DXFER_LEN,
  SG_MAX_QUEUE,
  type SgBuffer,
  type SgEnvironment,
  type SgReserveState,
  SZ_SG_HEADER,
  sgBuildIndirect,
  sgDirectIoDecision,
  sgGetReservedSize,
  sgLinkReserve,
  sgMmap,
  sgMmapIoRefusal,
  sgOpenReserve,
  sgSetReservedSize,
  sgToFromDevRefusal,
} from '@sgv4/core';
import type { SgAbi } from '../abi/c-abi.js';
import {
  SG_DEF_COMMAND_Q,
  SG_DEF_FORCE_PACK_ID,
  SG_DEF_KEEP_ORPHAN,
  SG_DEFAULT_TIMEOUT_USER,
  SG_MIN_CDB_SIZE,
  SG_VERSION_NUM,
  USER_HZ,
} from '../constants.js';
import { SgDriverError, type SgErrnoName } from '../sg-driver-error.js';
import { COMPAT_SG_IO_HDR_SIZE, SG_IO_HDR_SIZE, type SgIoHdr } from '../structs/sg-io-hdr.js';
import { emptySgReqInfo, type SgReqInfo } from '../structs/sg-req-info.js';
import { transferDirectionOf } from '../translate/interface-rules.js';
import { type SgV3Outcome, sgV3ResultFromResponse } from '../translate/result.js';
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from './poll-events.js';

/** CONFIG_HZ of Debian's x86-64 kernels (the lab's): SG_SET_TIMEOUT's cap is computed with it. */
export const DEBIAN_HZ = 250;

/** How the fd was opened and what the driver and the device around it are. */
export interface SgFdOptions {
  /** The device's queue limits and the sg buffer parameters (scatter_elem_sz, page size, allocator). */
  readonly env: SgEnvironment;
  /** sg's `def_reserved_size` module parameter (default 32768): the reserve a new fd asks for. */
  readonly defReservedSize?: number;
  /** sg's `allow_dio` module parameter (default false): SG_FLAG_DIRECT_IO is honoured only with it. */
  readonly allowDio?: boolean;
  /** O_ACCMODE (default read-write): sg filters SG_IO commands on other fds; write()/read() need the access. */
  readonly openMode?: PermissionOpenMode;
  /** O_NONBLOCK: read() with nothing ready fails with EAGAIN instead of waiting. */
  readonly nonBlocking?: boolean;
  /** The caller has CAP_SYS_RAWIO (the command filter lets everything through). Default false. */
  readonly capSysRawio?: boolean;
  /** Peripheral device type (scanners, 6, are never filtered). Default 0 (disk). */
  readonly deviceType?: number;
  /** CONFIG_HZ (default 250, Debian): SG_SET_TIMEOUT caps its value at INT_MAX * USER_HZ / HZ. */
  readonly hz?: number;
  /**
   * SG_DXFER_TO_FROM_DEV on the indirect path. `kernel` (default): what 6.1 stable kernels from
   * 6.1.80 on (the lab's 6.1.192 among them) do: block/blk-map.c `bio_copy_user_iov()` copies the
   * caller's bytes in from a copy of the iterator and never advances the real one, so
   * `blk_rq_map_user_iov()` maps again and again until the buffer's pages run out (ENOMEM) or
   * a bio is refused (EINVAL): @sgv4/core's `sg-to-from-dev-regression` (`sgToFromDevRefusal`),
   * over dxfer_len (the facade's iovecs may hold less). `documented`: what sg documents and
   * 6.1.0..6.1.79 do: the bytes copied in before the command and the whole buffer copied back
   * after it.
   */
  readonly toFromDev?: 'kernel' | 'documented';
}

/** Where a request's data goes (`sg_start_req()`). */
export type SgDataPath =
  /** Nothing moves: dxfer_len <= 0 or SG_DXFER_NONE. */
  | { readonly kind: 'none' }
  /** Direct IO into the caller's pages (allow_dio, SG_FLAG_DIRECT_IO, aligned, no iovec). */
  | { readonly kind: 'direct' }
  /** Through the fd's reserved buffer (`sg_link_reserve()`): it fits and no other request holds it. */
  | { readonly kind: 'reserve'; readonly length: number }
  /** Through a private buffer built for the request (`sg_build_indirect()`). */
  | { readonly kind: 'private'; readonly buffer: SgBuffer };

/** One request of the fd (`struct sg_request`). */
export interface SgRequestSlot {
  /** The model's id for it (unique for the fd's lifetime). */
  readonly id: number;
  /** The header as submitted; its output fields as `sg_rq_end_io()` set them once done. */
  readonly header: Readonly<SgIoHdr>;
  /** The caller's ABI (a reply read() needs 64 or 88 bytes accordingly). */
  readonly abi: SgAbi;
  /** The task tag the facade gave it. */
  readonly tag: bigint;
  /** `done`: 0 in flight, 1 completed and readable, 2 being read. */
  readonly done: 0 | 1 | 2;
  /** Submitted by SG_IO, which reads it itself: read(), poll and SG_GET_NUM_WAITING ignore it. */
  readonly sgIoOwned: boolean;
  /** An interrupted SG_IO's request. */
  readonly orphan: boolean;
  /** It holds the fd's reserved buffer (`res_used`) until it is read. */
  readonly resUsed: boolean;
  /** Where its data goes. */
  readonly dataPath: SgDataPath;
  /** ms when it was admitted (`header.duration` holds this until completion). */
  readonly startMs: number;
  /** The response, once complete. */
  readonly response: ScsiResponse | undefined;
}

type MutableSlot = { -readonly [K in keyof SgRequestSlot]: SgRequestSlot[K] };

/** What {@link SgFdModel.complete} did with a completion. */
export interface SgCompletion {
  /** The reply can now be read (wakes readers, POLLIN, SIGPOLL). */
  readonly readable: boolean;
  /** An orphan without SG_SET_KEEP_ORPHAN: the request was freed, its reply dropped. */
  readonly dropped: boolean;
}

/** The submission call: write(2) or ioctl(SG_IO). */
export type SgSubmitCall = 'write' | 'SG_IO';

/** How a header is being submitted. */
export interface SgAdmitOptions {
  /** write(2) or ioctl(SG_IO). */
  readonly via: SgSubmitCall;
  /** write(2)'s byte count (default: the ABI's header size). */
  readonly count?: number;
  /** The caller's ABI (default lp64). */
  readonly abi?: SgAbi;
  /** The task tag the request gets. */
  readonly tag?: bigint;
  /** Now, in ms. */
  readonly nowMs: number;
}

function syscallOf(via: SgSubmitCall): string {
  return via === 'write' ? 'write' : 'ioctl(SG_IO)';
}

function fail(code: SgErrnoName, syscall: string, rule: string, fn: string): never {
  throw new SgDriverError(code, syscall, rule, fn);
}

/** `(int)(signed char)value`: how a `char` field set from an int reads back. */
function asSignedChar(value: number): number {
  return (value << 24) >> 24;
}

/** mult_frac(x, n, d) as include/linux/math.h computes it (no overflow of x * n). */
function multFrac(x: number, n: number, d: number): number {
  const q = Math.floor(x / d);
  const r = x % d;
  return q * n + Math.floor((r * n) / d);
}

/** The per-fd state of the sg driver. See the module description. */
export class SgFdModel {
  readonly #env: SgEnvironment;
  readonly #allowDio: boolean;
  readonly #openMode: PermissionOpenMode;
  readonly #nonBlocking: boolean;
  readonly #capSysRawio: boolean;
  readonly #deviceType: number;
  readonly #hz: number;
  readonly #toFromDev: 'kernel' | 'documented';
  #reserve: SgReserveState;
  readonly #requests: MutableSlot[] = [];
  #cmdQ = SG_DEF_COMMAND_Q !== 0;
  #forcePackId = SG_DEF_FORCE_PACK_ID !== 0;
  #keepOrphan = SG_DEF_KEEP_ORPHAN;
  #timeoutUser = SG_DEFAULT_TIMEOUT_USER;
  #nextCmdLen = 0;
  #nextId = 1;
  #closed = false;

  /** A freshly opened fd (`sg_add_sfp()`): reserve of min(def_reserved_size, max_sectors bytes), queueing off. */
  constructor(options: SgFdOptions) {
    this.#env = options.env;
    this.#allowDio = options.allowDio ?? false;
    this.#openMode = options.openMode ?? 'read-write';
    this.#nonBlocking = options.nonBlocking ?? false;
    this.#capSysRawio = options.capSysRawio ?? false;
    this.#deviceType = options.deviceType ?? 0;
    this.#hz = options.hz ?? DEBIAN_HZ;
    this.#toFromDev = options.toFromDev ?? 'kernel';
    this.#reserve = sgOpenReserve(this.#env, options.defReservedSize ?? SG_DEF_RESERVED_SIZE);
  }

  /** The reserved buffer's state (size, mmap_called, in use). */
  get reserve(): SgReserveState {
    return this.#reserve;
  }

  /** The fd's requests in list order (submission order), the ones being read included. */
  get requests(): readonly SgRequestSlot[] {
    return this.#requests;
  }

  /** `cmd_q`. */
  get commandQueueing(): boolean {
    return this.#cmdQ;
  }

  /** `force_packid`. */
  get forcePackId(): boolean {
    return this.#forcePackId;
  }

  /** O_NONBLOCK. */
  get nonBlocking(): boolean {
    return this.#nonBlocking;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The requests carrying `packId`, in list order (how a pack_id finds its task tags). */
  requestsWithPackId(packId: number): readonly SgRequestSlot[] {
    return this.#requests.filter((r) => r.header.packId === packId);
  }

  /** The request with task tag `tag`. */
  requestWithTag(tag: bigint): SgRequestSlot | undefined {
    return this.#requests.find((r) => r.tag === tag);
  }

  #checkOpen(syscall: string): void {
    if (this.#closed) fail('EBADF', syscall, 'the fd is closed', 'fdget');
  }

  #remove(slot: SgRequestSlot): void {
    const i = this.#requests.indexOf(slot as MutableSlot);
    if (i >= 0) this.#requests.splice(i, 1);
  }

  /** `sg_finish_rem_req()` + `sg_remove_request()`: give the reserve back and drop the slot. */
  #finish(slot: SgRequestSlot): void {
    if (slot.resUsed) {
      this.#reserve = { ...this.#reserve, inUse: false };
      (slot as MutableSlot).resUsed = false;
    }
    this.#remove(slot);
  }

  /**
   * The first half of a v3 submission, `sg_write()` then `sg_new_write()` up to the CDB: write()
   * on an O_RDONLY fd is EBADF (the VFS); a write() of fewer than 36 bytes is EIO (`sg_write()`);
   * a header with dxfer_direction >= 0 given to write() is an old sg_header, which this model
   * does not cover (NotSupportedError); fewer than 88 bytes is EINVAL (checked against the
   * native size even for a 32-bit caller, whose header is 64 bytes); then command queueing is
   * switched on, the request takes a slot (EDOM when the fd has 16; queueing was just switched
   * on, so the one-request limit of cmd_q 0 never applies to v3: `sg_add_request()`), interface_id must be 'S' (ENOSYS), SG_FLAG_MMAP_IO must fit the reserve
   * (ENOMEM), not come with SG_FLAG_DIRECT_IO (EINVAL) and find it free (EBUSY), and cmdp must be
   * set with cmd_len in 6..252 (EMSGSIZE). A refused request gives its slot back; cmd_q stays on.
   */
  admit(hdr: SgIoHdr, options: SgAdmitOptions): SgRequestSlot {
    const call = syscallOf(options.via);
    this.#checkOpen(call);
    const abi = options.abi ?? 'lp64';
    if (options.via === 'write') {
      if (this.#openMode === 'read-only')
        fail('EBADF', call, 'write() on an fd opened O_RDONLY', 'vfs_write');
      const count = options.count ?? (abi === 'lp64' ? SG_IO_HDR_SIZE : COMPAT_SG_IO_HDR_SIZE);
      if (count < SZ_SG_HEADER) {
        fail('EIO', call, `write() of ${count} bytes, fewer than sizeof(struct sg_header) = 36`, 'sg_write');
      }
      if (hdr.dxferDirection >= 0) {
        throw new NotSupportedError(
          'the sg_header (v2) interface',
          'write() of a header whose dxfer_direction (sg_header.reply_len) is >= 0 is an old sg_header; sgv4 models sg_io_hdr (v3) only',
        );
      }
      if (count < SG_IO_HDR_SIZE) {
        fail(
          'EINVAL',
          call,
          `v3 write() of ${count} bytes, fewer than sizeof(struct sg_io_hdr) = 88 (a 64-bit size, required even from a 32-bit caller)`,
          'sg_new_write',
        );
      }
    }
    this.#cmdQ = true; // "when sg_io_hdr seen, set command queuing on", before the slot is taken
    if (this.#requests.length >= SG_MAX_QUEUE) {
      fail(
        'EDOM',
        call,
        `the fd already has ${this.#requests.length} requests (SG_MAX_QUEUE ${SG_MAX_QUEUE})`,
        'sg_add_request',
      );
    }
    const slot: MutableSlot = {
      id: this.#nextId++,
      header: {
        ...hdr,
        status: 0,
        maskedStatus: 0,
        msgStatus: 0,
        hostStatus: 0,
        driverStatus: 0,
        resid: 0,
        info: 0,
      },
      abi,
      tag: options.tag ?? 0n,
      done: 0,
      sgIoOwned: options.via === 'SG_IO',
      orphan: false,
      resUsed: false,
      dataPath: { kind: 'none' },
      startMs: options.nowMs,
      response: undefined,
    };
    this.#requests.push(slot);
    const refuse = (code: SgErrnoName, rule: string, fn = 'sg_new_write'): never => {
      this.#remove(slot);
      return fail(code, call, rule, fn);
    };
    if (hdr.interfaceId !== SG_INTERFACE_ID_ORIG) refuse('ENOSYS', "interface_id is not 'S'");
    const direction = transferDirectionOf(hdr.dxferDirection);
    const refusal = sgMmapIoRefusal(
      {
        dxferLength: hdr.dxferLen,
        direction,
        directIo: (hdr.flags & SG_FLAG_DIRECT_IO) !== 0,
        mmapIo: (hdr.flags & SG_FLAG_MMAP_IO) !== 0,
        iovecCount: hdr.iovecCount,
        dxferp: 0,
      },
      this.#reserve,
    );
    if (refusal !== undefined) refuse(refusal.errno, refusal.rule.replace(/ \(sg_new_write\)$/, ''));
    if (hdr.cmdp === 0n || hdr.cmdLen < SG_MIN_CDB_SIZE || hdr.cmdLen > SG_MAX_CDB_SIZE) {
      refuse(
        'EMSGSIZE',
        `cmdp is NULL or cmd_len ${hdr.cmdLen} is outside ${SG_MIN_CDB_SIZE}..${SG_MAX_CDB_SIZE}`,
      );
    }
    return slot;
  }

  /**
   * The command filter (`sg_new_write()` -> `sg_allow_access()` -> `scsi_cmd_allowed()`): only for
   * SG_IO on an fd not opened O_RDWR (write() is never filtered), and never for scanners;
   * refused commands are EPERM. Call it with the CDB the facade fetched; a refusal frees the slot.
   */
  permit(slot: SgRequestSlot, cdb: Uint8Array): void {
    if (!slot.sgIoOwned || this.#openMode === 'read-write') return;
    const decision = decidePermission({
      cdb,
      openMode: this.#openMode,
      capSysRawio: this.#capSysRawio,
      iface: 'sg',
      deviceType: this.#deviceType,
      submission: 'ioctl',
    });
    if (!decision.allowed) {
      this.#remove(slot);
      fail(
        'EPERM',
        'ioctl(SG_IO)',
        `command 0x${(cdb[0] ?? 0).toString(16)} is ${decision.commandClass} on an fd opened ${this.#openMode}`,
        'sg_allow_access',
      );
    }
  }

  /**
   * `sg_common_write()` and the buffer half of `sg_start_req()`: dxfer_len >= 256 MiB is EINVAL;
   * a CDB over 32 bytes is EINVAL; with no data nothing more happens; direct IO is chosen when
   * allowed and aligned (`sgDirectIoDecision`); otherwise the reserve is linked when the
   * transfer fits it and no request holds it, an mmap-ed request that cannot have it fails
   * (ENOMEM when too large, else EBUSY), and any other request gets a private buffer (ENOMEM
   * when the pages cannot be had). `iovecCount` and `dxferp` feed the direct-IO test. A refusal
   * frees the slot (and the reserve).
   */
  start(slot: SgRequestSlot): SgDataPath {
    const hdr = slot.header;
    const call = syscallOf(slot.sgIoOwned ? 'SG_IO' : 'write');
    const refuse = (code: SgErrnoName, rule: string, fn: string): never => {
      this.#finish(slot);
      return fail(code, call, rule, fn);
    };
    if (hdr.dxferLen >= SG_MAX_DXFER_LEN)
      refuse('EINVAL', `dxfer_len ${hdr.dxferLen} is 256 MiB or more`, 'sg_common_write');
    if (hdr.cmdLen > 32)
      refuse('EINVAL', `cmd_len ${hdr.cmdLen} exceeds 32 (sizeof scsi_cmnd.cmnd)`, 'sg_start_req');
    const s = slot as MutableSlot;
    const direction = transferDirectionOf(hdr.dxferDirection);
    if ((hdr.dxferLen | 0) <= 0 || direction === 'none') {
      s.dataPath = { kind: 'none' };
      return s.dataPath;
    }
    const mmapIo = (hdr.flags & SG_FLAG_MMAP_IO) !== 0;
    const dio = sgDirectIoDecision(
      {
        dxferLength: hdr.dxferLen,
        direction,
        directIo: (hdr.flags & SG_FLAG_DIRECT_IO) !== 0,
        mmapIo,
        iovecCount: hdr.iovecCount,
        dxferp: Number(hdr.dxferp & 0xffff_ffffn),
      },
      this.#allowDio,
      this.#env.limits,
    );
    if (dio.direct) {
      if (hdr.dxferp === 0n)
        refuse('EFAULT', 'direct IO from a NULL dxferp', 'bio_map_user_iov (block/blk-map.c)');
      s.dataPath = { kind: 'direct' };
      return s.dataPath;
    }
    let buffer: SgBuffer;
    if (hdr.dxferLen <= this.#reserve.buffer.bufflen && !this.#reserve.inUse) {
      this.#reserve = { ...this.#reserve, inUse: true };
      s.resUsed = true;
      s.dataPath = { kind: 'reserve', length: hdr.dxferLen };
      buffer = sgLinkReserve(this.#reserve.buffer, hdr.dxferLen);
    } else {
      if (mmapIo) {
        if (hdr.dxferLen > this.#reserve.buffer.bufflen) {
          refuse('ENOMEM', 'SG_FLAG_MMAP_IO larger than the reserve', 'sg_start_req');
        }
        refuse('EBUSY', 'SG_FLAG_MMAP_IO while the reserve is in use', 'sg_start_req');
      }
      const built = sgBuildIndirect(hdr.dxferLen, this.#env);
      if (built.result !== 0) {
        refuse('ENOMEM', `no pages for a ${hdr.dxferLen}-byte private buffer`, 'sg_build_indirect');
      }
      s.dataPath = { kind: 'private', buffer: built.buffer };
      buffer = built.buffer;
    }
    if (direction === 'to-from-device') {
      // The copy-in of TO_FROM_DEV (bio_copy_user_iov with map_data->from_user).
      if (hdr.dxferp === 0n && hdr.iovecCount === 0) {
        refuse(
          'EFAULT',
          'SG_DXFER_TO_FROM_DEV with a NULL dxferp copies in from address 0',
          'bio_copy_user_iov (block/blk-map.c)',
        );
      }
      if (this.#toFromDev === 'kernel') {
        // @sgv4/core's sg-to-from-dev-regression, over the pages this request's buffer has.
        const refusal = sgToFromDevRefusal(hdr.dxferLen, buffer, this.#env.limits, this.#env.pageSize);
        refuse(refusal.errno, refusal.rule, refusal.kernelFunction);
      }
    }
    return s.dataPath;
  }

  /** A submission failed after {@link SgFdModel.start} (mapping the data: EFAULT, EINVAL): `sg_finish_rem_req()` + `sg_remove_request()`. */
  abandon(slot: SgRequestSlot): void {
    this.#finish(slot);
  }

  /**
   * `sg_rq_end_io()`: the request completed with `response`. A non-zero result sets status,
   * masked_status (`status_byte`), msg_status 0 (COMMAND COMPLETE), host and driver status
   * (DRIVER_SENSE is the reply's business, in `sg_new_read()`); resid is always set; duration
   * becomes now - start. An orphan (interrupted SG_IO) becomes a readable request under
   * SG_SET_KEEP_ORPHAN, else it is freed here with its reply.
   */
  complete(slot: SgRequestSlot, response: ScsiResponse, nowMs: number): SgCompletion {
    const s = slot as MutableSlot;
    if (s.done !== 0 || !this.#requests.includes(s)) {
      throw new InvalidFieldError('slot', 'must be a request of this fd that is still in flight', slot.id);
    }
    const status = response.status & 0xff;
    const host = response.hostStatus & 0xffff;
    const driver = response.driverStatus & ~0x08 & 0xffff;
    const header = { ...s.header };
    if (status !== 0 || host !== 0 || driver !== 0) {
      header.status = status;
      header.maskedStatus = (status >> 1) & 0x7f;
      header.msgStatus = 0;
      header.hostStatus = host;
      header.driverStatus = driver;
    }
    header.resid = slot.header.dxferDirection === -2 ? response.doutResid : response.dinResid;
    header.duration = Math.max(0, Math.floor(nowMs - slot.startMs));
    s.header = header;
    s.response = response;
    if (s.orphan && this.#keepOrphan === 0) {
      this.#finish(s);
      return { readable: false, dropped: true };
    }
    if (s.orphan) s.sgIoOwned = false;
    s.done = 1;
    return { readable: !s.sgIoOwned, dropped: false };
  }

  /**
   * SG_IO was interrupted before its request completed (`sg_ioctl_common()`, case SG_IO): the
   * request becomes an orphan, dropped at completion unless SG_SET_KEEP_ORPHAN is on. Returns
   * false when it had already completed (then SG_IO reads it normally).
   */
  orphan(slot: SgRequestSlot): boolean {
    if (slot.done !== 0) return false;
    (slot as MutableSlot).orphan = true;
    return true;
  }

  /**
   * `sg_get_rq_mark()`: the first request in list order that read() may return (not SG_IO's),
   * matching `packId` unless it is -1, and completed; it is marked as being read. `busy` says
   * whether a matching request is still in flight.
   */
  takeReply(packId = -1): { readonly slot: SgRequestSlot | undefined; readonly busy: boolean } {
    let busy = false;
    for (const r of this.#requests) {
      if (r.sgIoOwned || (packId !== -1 && r.header.packId !== packId)) continue;
      if (r.done === 0) busy = true;
      else if (r.done === 1) {
        r.done = 2;
        return { slot: r, busy };
      }
    }
    return { slot: undefined, busy };
  }

  /**
   * read(2)'s choice (`sg_read()`): on an O_WRONLY fd EBADF (the VFS); with SG_SET_FORCE_PACK_ID the
   * pack_id the caller's header names (-1 = any), else any; the reply is taken (see
   * {@link SgFdModel.takeReply}). Nothing ready: EAGAIN with O_NONBLOCK, else undefined (the
   * caller waits for a completion and asks again).
   */
  beginRead(requestedPackId = -1): SgRequestSlot | undefined {
    this.#checkOpen('read');
    if (this.#openMode === 'write-only') fail('EBADF', 'read', 'read() on an fd opened O_WRONLY', 'vfs_read');
    const { slot } = this.takeReply(this.#forcePackId ? requestedPackId : -1);
    if (slot !== undefined) return slot;
    if (this.#nonBlocking) fail('EAGAIN', 'read', 'O_NONBLOCK and no reply ready', 'sg_read');
    return undefined;
  }

  /**
   * The reply of a request being read, as `sg_new_read()` completes its header: sense copied when
   * the request asked for it and the status or sense bytes call for it, DRIVER_SENSE, sb_len_wr,
   * SG_INFO_CHECK (see sgV3ResultFromResponse), and the duration the model measured.
   */
  reply(slot: SgRequestSlot): SgV3Outcome {
    const response = slot.response;
    if (response === undefined) throw new InvalidFieldError('slot', 'has not completed', slot.id);
    const outcome = sgV3ResultFromResponse(response, {
      interface: 'sg',
      direction: transferDirectionOf(slot.header.dxferDirection),
      mxSbLen: slot.header.mxSbLen,
      hasSenseBuffer: slot.header.sbp !== 0n,
    });
    return {
      ...outcome,
      result: { ...outcome.result, duration: slot.header.duration, resid: slot.header.resid },
    };
  }

  /**
   * The end of a read (`sg_new_read()`): the request leaves the fd and gives the reserve back
   * (`sg_finish_rem_req()`) whatever happens; a read() buffer smaller than the caller's header
   * (64 bytes for a 32-bit caller, 88 otherwise) is then EINVAL, and the reply is lost.
   */
  finishRead(slot: SgRequestSlot, count: number, abi: SgAbi = slot.abi): void {
    this.#finish(slot);
    const needed = abi === 'ilp32' ? COMPAT_SG_IO_HDR_SIZE : SG_IO_HDR_SIZE;
    if (count < needed) {
      fail(
        'EINVAL',
        slot.sgIoOwned ? 'ioctl(SG_IO)' : 'read',
        `read() of ${count} bytes, fewer than the ${needed}-byte sg_io_hdr (the reply is dropped)`,
        'sg_new_read',
      );
    }
  }

  /**
   * `sg_poll()`: POLLIN|POLLRDNORM when a reply read() may return is ready; POLLOUT|POLLWRNORM
   * when a write() would find a slot (command queueing on and fewer than 16 requests, or off and
   * none). Every request counts, SG_IO's and those being read included.
   */
  poll(): number {
    let mask = 0;
    if (this.#requests.some((r) => r.done === 1 && !r.sgIoOwned)) mask |= POLLIN | POLLRDNORM;
    const count = this.#requests.length;
    if (this.#cmdQ ? count < SG_MAX_QUEUE : count === 0) mask |= POLLOUT | POLLWRNORM;
    return mask;
  }

  /** SG_GET_NUM_WAITING: completed requests read() may return. */
  numWaiting(): number {
    return this.#requests.filter((r) => r.done === 1 && !r.sgIoOwned).length;
  }

  /** SG_GET_PACK_ID: the pack_id of the first such request, -1 when none. */
  packIdOfFirstReply(): number {
    return this.#requests.find((r) => r.done === 1 && !r.sgIoOwned)?.header.packId ?? -1;
  }

  /**
   * SG_GET_REQUEST_TABLE (`sg_fill_request_table()`): the requests in list order, at most 16,
   * then empty entries: req_state = done + 1, problem when masked, host or driver status is
   * set, duration = ms since admission (in flight) or the request's duration (done), orphan,
   * sg_io_owned, pack_id, usr_ptr.
   */
  requestTable(nowMs: number): SgReqInfo[] {
    const table = this.#requests.slice(0, SG_MAX_QUEUE).map(
      (r): SgReqInfo => ({
        reqState: r.done + 1,
        orphan: r.orphan ? 1 : 0,
        sgIoOwned: r.sgIoOwned ? 1 : 0,
        problem:
          r.header.maskedStatus !== 0 || r.header.hostStatus !== 0 || r.header.driverStatus !== 0 ? 1 : 0,
        packId: r.header.packId,
        usrPtr: r.header.usrPtr,
        duration: r.done !== 0 ? r.header.duration : Math.max(0, Math.floor(nowMs - r.startMs)),
        unused: 0,
      }),
    );
    while (table.length < SG_MAX_QUEUE) table.push(emptySgReqInfo());
    return table;
  }

  /** SG_SET_RESERVED_SIZE (`sg_ioctl_common()`): negative EINVAL; a size change after mmap() or while in use EBUSY; see sgSetReservedSize. */
  setReservedSize(value: number): void {
    this.#checkOpen('ioctl(SG_SET_RESERVED_SIZE)');
    const out = sgSetReservedSize(this.#reserve, value, this.#env);
    if (out.result !== 0) fail(out.result, 'ioctl(SG_SET_RESERVED_SIZE)', out.rule, 'sg_ioctl_common');
    this.#reserve = out.state;
  }

  /** SG_GET_RESERVED_SIZE: min(reserve, max_sectors bytes). */
  getReservedSize(): number {
    return sgGetReservedSize(this.#reserve, this.#env);
  }

  /**
   * mmap(2) of the fd, MAP_SHARED: the VFS first wants the fd open for reading, and for writing
   * too when the mapping is writable (mm/mmap.c `do_mmap()`: EACCES); then `sg_mmap()`: a
   * non-zero offset is EINVAL, more than the reserve ENOMEM; success sets mmap_called for good.
   */
  mmap(length: number, pageOffset = 0, writable = true): void {
    this.#checkOpen('mmap');
    if (this.#openMode === 'write-only')
      fail('EACCES', 'mmap', 'MAP_SHARED of an fd not open for reading', 'do_mmap');
    if (writable && this.#openMode === 'read-only') {
      fail('EACCES', 'mmap', 'a writable MAP_SHARED mapping of an fd not open for writing', 'do_mmap');
    }
    const out = sgMmap(this.#reserve, { length, pageOffset }, this.#env.pageSize);
    if (out.result !== 0) fail(out.result, 'mmap', out.rule, 'sg_mmap');
    this.#reserve = out.state;
  }

  /** SG_SET_COMMAND_Q: any non-zero value turns queueing on. */
  setCommandQueueing(value: number): void {
    this.#cmdQ = value !== 0;
  }

  /** SG_SET_FORCE_PACK_ID: any non-zero value makes read() match pack_ids. */
  setForcePackId(value: number): void {
    this.#forcePackId = value !== 0;
  }

  /** SG_SET_KEEP_ORPHAN: stored in a char (SG_GET_KEEP_ORPHAN reads it back sign-extended). */
  setKeepOrphan(value: number): void {
    this.#keepOrphan = asSignedChar(value);
  }

  /** SG_GET_KEEP_ORPHAN. */
  getKeepOrphan(): number {
    return this.#keepOrphan;
  }

  /**
   * SG_SET_TIMEOUT (USER_HZ ticks): negative EIO; values from INT_MAX * USER_HZ / HZ up are
   * capped there. Only the old sg_header interface uses it (v3 carries its own timeout).
   */
  setTimeout(ticks: number): void {
    if (ticks < 0) fail('EIO', 'ioctl(SG_SET_TIMEOUT)', 'a negative timeout', 'sg_ioctl_common');
    const cap = multFrac(0x7fff_ffff, USER_HZ, this.#hz);
    this.#timeoutUser = ticks >= cap ? Math.min(cap, 0x7fff_ffff) : ticks;
  }

  /** SG_GET_TIMEOUT (returned as the ioctl's value). */
  getTimeout(): number {
    return this.#timeoutUser;
  }

  /** SG_NEXT_CMD_LEN: the CDB length of the next sg_header write(); over 252 ENOMEM. */
  setNextCommandLength(value: number): void {
    if (value > SG_MAX_CDB_SIZE)
      fail('ENOMEM', 'ioctl(SG_NEXT_CMD_LEN)', `${value} exceeds SG_MAX_CDB_SIZE (252)`, 'sg_ioctl_common');
    this.#nextCmdLen = Math.max(value, 0);
  }

  /** The pending SG_NEXT_CMD_LEN (0 = automatic). */
  get nextCommandLength(): number {
    return this.#nextCmdLen;
  }

  /** SG_GET_SG_TABLESIZE: the queue's max_segments. */
  getSgTablesize(): number {
    return this.#env.limits.maxSegments;
  }

  /** SG_GET_VERSION_NUM: 30536. */
  getVersionNum(): number {
    return SG_VERSION_NUM;
  }

  /** close(2) (`sg_release()`): the fd is gone; requests in flight finish in the kernel and are freed. */
  close(): void {
    this.#checkOpen('close');
    this.#closed = true;
  }
}
