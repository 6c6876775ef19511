/**
 * The Linux kernel transports: an sg, bsg or block node opened with the native addon. One class
 * serves the three nodes; what differs (how a request is queued, what the path can do) comes
 * from the node kind: sg O_RDWR fds use the write()/read() queue, everything else blocking
 * SG_IO on the addon's own threads.
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DataBuffer,
  defaultQueueLimits,
  InvalidFieldError,
  NotSupportedError,
  OsError,
  PermissionDeniedError,
  parseSysfsQueueLimits,
  TaskManagementFunction,
  TmfResponse,
  tmfResponseName,
} from '@sgv4/core';
import type {
  DeviceCapabilities,
  TaskManagementResult,
  Transport,
  TransportDescription,
  TransportOpenOptions,
  TransportPermissionProfile,
  TransportRequest,
  TransportResult,
} from '../transport/transport.js';
import { BsgRingQueue } from './bsg-ring-queue.js';
import { blockCapabilities, bsgCapabilities, sgCapabilities } from './kernel-capabilities.js';
import { KernelNode, type NodeCommand, type NodeData } from './native-node.js';
import { Capability, hasCapability } from './process-capabilities.js';
import {
  decodeFrameResult,
  encodeFrame,
  FRAME_BYTES,
  type Frame,
  FramePool,
  frameIn,
} from './sg-io-frame.js';
import { deviceNodes, queueLimitsOf, type SysfsRoots, scsiDeviceOfNode } from './sysfs.js';

const PAGE_SIZE = 4096;
/** Prepared commands one transport keeps (each pins its data buffer until evicted or closed). */
const PREPARED_MAX = 64;
/** Largest sg reserved buffer the transport asks for on its queue fd (the kernel caps it at max_sectors anyway). */
const RESERVE_MAX = 4 * 1024 * 1024;
/** Largest CDB a prepared command's native block has room for (SPC-6 variable-length CDBs stop at 260; sg takes 16, bsg 32 here). */
const PREPARED_CDB = 32;

/**
 * A command prepared for one data buffer: loops that reuse their buffers (`sgv4 dd`'s slots, a
 * caller's own) skip the native layer's validation and pinning after the second request.
 * The header, CDB and sense live in one block of native memory, written by the kernel path
 * without a copy. The request fields the header was prepared with must match to reuse it.
 */
interface Prepared {
  readonly command: NodeCommand;
  /** Submitted and not settled yet (it runs once at a time). */
  busy: boolean;
  readonly frame: Frame;
  readonly cdb: Uint8Array;
  readonly cdbLength: number;
  readonly out: boolean;
  readonly timeoutMs: number;
  readonly priority: number;
  readonly queueAt: 'head' | 'tail' | undefined;
  readonly transfer: string;
  readonly maxSenseLength: number;
}

/** A prepared run waiting for the end of the turn. */
interface Pending {
  readonly prepared: Prepared;
  readonly resolve: (result: TransportResult) => void;
  readonly reject: (error: unknown) => void;
}

function fits(p: Prepared, request: TransportRequest, out: boolean): boolean {
  return (
    p.cdbLength === request.cdb.length &&
    p.out === out &&
    p.timeoutMs === request.timeoutMs &&
    p.priority === request.priority &&
    p.queueAt === request.queueAt &&
    p.transfer === request.transfer &&
    p.maxSenseLength === request.maxSenseLength
  );
}

/** One mmap-ed sg reserve: its own fd (sg allows one mmap-ed request per fd at a time). */
interface MappedReserve {
  readonly node: KernelNode;
  readonly length: number;
}

/** An sg, bsg or block node as a {@link Transport}. */
export class KernelTransport implements Transport {
  readonly kind: 'sg' | 'bsg' | 'block';
  readonly location: string;
  readonly readOnly: boolean;
  readonly capabilities: DeviceCapabilities;
  readonly permissions: TransportPermissionProfile;
  readonly #node: KernelNode;
  readonly #roots: SysfsRoots;
  readonly #frames = new FramePool(KernelNode.allocateBuffer);
  /** Data buffers seen once: the second request with one gets a prepared command. */
  readonly #seen = new WeakSet<Uint8Array>();
  /** Prepared commands by data buffer, one map per direction, oldest first (evicted beyond PREPARED_MAX each). */
  readonly #preparedIn = new Map<Uint8Array, Prepared>();
  readonly #preparedOut = new Map<Uint8Array, Prepared>();
  /** Prepared runs submitted in this turn, sent together at its end. */
  #batch: Pending[] = [];
  readonly #reserves = new Map<ArrayBufferLike, MappedReserve>();
  /** sg: the reserved buffer size asked for on the queue fd so far (0 = the driver's default). */
  #reserveAsked = 0;
  /** bsg: the ring that carries commands overlapping others (queue depth without a thread hand-off per command). */
  #ring: BsgRingQueue | undefined;
  /** bsg: commands submitted and not settled, on either path. */
  #bsgInFlight = 0;
  readonly #bsgSettled = (): void => {
    this.#bsgInFlight--;
  };
  #closing: Promise<void> | undefined;

  private constructor(
    node: KernelNode,
    kind: 'sg' | 'bsg' | 'block',
    options: TransportOpenOptions,
    partition: boolean,
    roots: SysfsRoots,
  ) {
    this.#node = node;
    this.kind = kind;
    this.location = node.path;
    this.readOnly = options.readOnly;
    this.#roots = roots;
    const depth = node.kernelQueueDepth;
    this.capabilities =
      kind === 'sg'
        ? sgCapabilities(!options.readOnly, depth)
        : kind === 'bsg'
          ? bsgCapabilities(depth)
          : blockCapabilities(depth);
    this.permissions = {
      iface: kind,
      openMode: options.readOnly ? 'read-only' : 'read-write',
      capSysRawio: options.capSysRawio ?? hasCapability(Capability.SYS_RAWIO),
      submission: node.asyncQueue ? 'write' : 'ioctl',
      partition,
    };
  }

  /**
   * Opens a kernel node; the kind comes from fstat, not from the name, so symlinks such as
   * /dev/disk/by-id/... work. OsError ENOTTY for a node that is none of sg, bsg or block.
   */
  static open(path: string, options: TransportOpenOptions, roots: SysfsRoots = {}): KernelTransport {
    const node = KernelNode.open(path, options);
    const kind = node.kind;
    if (kind === 'other') {
      // What SG_IO on such a node answers (the VFS's default for an unknown ioctl), said up front.
      void node.close();
      throw new OsError(25, 'ENOTTY', 'SG_IO (not an sg, bsg or block device node)', path);
    }
    let partition = false;
    if (kind === 'block') {
      try {
        partition = scsiDeviceOfNode(path, roots)?.partition ?? false;
      } catch {
        partition = false;
      }
    }
    return new KernelTransport(node, kind, options, partition, roots);
  }

  describe(): Promise<TransportDescription> {
    const found = scsiDeviceOfNode(this.location, this.#roots);
    if (found === undefined) {
      return Promise.resolve({
        address: this.location,
        queueLimits: defaultQueueLimits(),
        assumedLimits: Object.entries(defaultQueueLimits()).map(([field, value]) => ({
          field: field as keyof ReturnType<typeof defaultQueueLimits>,
          value,
        })),
        limitsSource: 'kernel defaults (the node is not a SCSI device in sysfs)',
      });
    }
    const attrs = found.attributes;
    let limits = queueLimitsOf(attrs);
    if (limits === undefined && this.kind === 'sg') {
      // No block driver bound, so no queue directory: the sg ioctls still show two limits.
      limits = {
        ...parseSysfsQueueLimits({
          max_segments: String(this.#node.sgTablesize()),
          max_sectors_kb: String(Math.floor(this.#node.maxTransferBytes() / 1024)),
        }),
        source: 'sg ioctls (SG_GET_SG_TABLESIZE, BLKSECTGET)',
      };
    }
    const nodes = deviceNodes(attrs, this.#roots);
    const maxRequestBytes = this.kind === 'sg' ? this.#sgMaxRequestBytes() : undefined;
    return Promise.resolve({
      address: attrs.address,
      hctl: attrs.hctl,
      nodes,
      queueLimits: limits?.limits ?? defaultQueueLimits(),
      assumedLimits: limits?.assumed ?? [],
      limitsSource: limits?.source ?? 'kernel defaults (no queue directory in sysfs)',
      ...(attrs.queueDepth !== undefined ? { deviceQueueDepth: attrs.queueDepth } : {}),
      ...(maxRequestBytes !== undefined ? { maxRequestBytes } : {}),
      peripheralType: attrs.peripheralType,
    });
  }

  /**
   * sg's own cap on one request (drivers/scsi/sg.c): dxfer_len must stay below SZ_256M
   * (sg_common_write, EINVAL), and an indirect buffer has at most sg_tablesize elements of
   * scatter_elem_sz bytes (sg_build_indirect, ENOMEM beyond).
   */
  #sgMaxRequestBytes(): number {
    let elem = 32768;
    try {
      const t = readFileSync(
        join(this.#roots.sysfsRoot ?? '/sys', 'module/sg/parameters/scatter_elem_sz'),
        'latin1',
      ).trim();
      if (/^\d+$/.test(t)) elem = Math.max(Number(t), PAGE_SIZE);
    } catch {
      // sg built in without the parameter file: its default, SG_SCATTER_SZ.
    }
    return Math.min(256 * 1024 * 1024 - 1, this.#node.sgTablesize() * elem);
  }

  /** bsg: commands sent through the ring so far (the others took the one-shot SG_IO path); 0 elsewhere. */
  get ringCommands(): number {
    return this.#ring?.carried ?? 0;
  }

  /** bsg: sizes the ring's registered buffers by the Device's queue depth (before the first command). */
  setQueueDepth(depth: number): void {
    if (this.kind === 'bsg' && this.#ring === undefined) this.#ring = new BsgRingQueue(this.location, depth);
  }

  submit(request: TransportRequest): Promise<TransportResult> {
    if (this.kind !== 'bsg') return this.#submit(request);
    // A command that overlaps another goes through the ring; a lone one keeps the one-shot path,
    // whose single hand-off each way is what the ring would cost too.
    this.#ring ??= new BsgRingQueue(this.location, this.capabilities.maxQueueDepth);
    const ring = this.#ring;
    const sent =
      this.#bsgInFlight > 0 && this.#closing === undefined && ring.accepts(request)
        ? ring.submit(request)
        : this.#submit(request);
    this.#bsgInFlight++;
    sent.then(this.#bsgSettled, this.#bsgSettled);
    return sent;
  }

  #submit(request: TransportRequest): Promise<TransportResult> {
    try {
      if (request.transfer !== 'mmap') {
        const data = request.dataIn ?? request.dataOut;
        if (data instanceof Uint8Array && data.length > 0) {
          const prepared = this.#preparedFor(request, data);
          if (prepared !== undefined) return this.#batched(prepared, request.cdb);
        }
      }
      // Requests reach the kernel in submission order: a batch waiting for the end of the turn goes first.
      if (this.#batch.length > 0) this.#flush();
      let node = this.#node;
      let mmapLength: number | undefined;
      let dataIn: NodeData = request.dataIn ?? null;
      let dataOut: NodeData = request.dataOut ?? null;
      if (request.transfer === 'mmap') {
        const data = request.dataIn ?? request.dataOut;
        const reserve = this.#reserveOf(data);
        node = reserve.node;
        mmapLength = (data as Uint8Array).length;
        dataIn = null;
        dataOut = null;
      }
      const frame = this.#frames.acquire();
      encodeFrame(frame, request, {
        tagInHeader: this.kind === 'bsg',
        ...(mmapLength !== undefined ? { mmapLength } : {}),
      });
      return node.sgIo(frame.header, request.cdb, frame.sense, dataOut, dataIn).then(
        () => {
          const result = decodeFrameResult(frame);
          this.#frames.release(frame);
          return result;
        },
        (error: unknown) => {
          this.#frames.release(frame);
          throw error;
        },
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The prepared command for `data`, made at its second request; undefined for a first
   * request, a CDB too long, or while its command is still running (the caller reuses a
   * buffer across concurrent requests: those go the one-off way). A request whose fields
   * differ from the prepared ones prepares again. On bsg the header's request_tag is left 0:
   * Linux 6.1 never reads it (scsi_bsg_sg_io_fn).
   */
  #preparedFor(request: TransportRequest, data: Uint8Array): Prepared | undefined {
    const out = request.dataOut !== undefined;
    const map = out ? this.#preparedOut : this.#preparedIn;
    const existing = map.get(data);
    if (existing !== undefined) {
      if (existing.busy) return undefined;
      if (fits(existing, request, out)) return existing;
      map.delete(data);
      existing.command.release();
    } else if (!this.#seen.has(data)) {
      this.#seen.add(data);
      return undefined;
    }
    if (request.cdb.length > PREPARED_CDB) return undefined;
    const block = KernelNode.allocateBuffer(FRAME_BYTES + PREPARED_CDB);
    // Every field but the CDB bytes is read once, at prepare(): they are what `fits` compares.
    const frame = frameIn(block, 0);
    encodeFrame(frame, request, { tagInHeader: false });
    const cdb = block.subarray(FRAME_BYTES, FRAME_BYTES + request.cdb.length);
    cdb.set(request.cdb);
    if (this.kind === 'sg' && request.transfer === 'indirect') this.#growReserve(data.length);
    const command = this.#node.prepare(frame.header, cdb, frame.sense, out ? data : null, out ? null : data);
    const prepared: Prepared = {
      command,
      busy: false,
      frame,
      cdb,
      cdbLength: request.cdb.length,
      out,
      timeoutMs: request.timeoutMs,
      priority: request.priority,
      queueAt: request.queueAt,
      transfer: request.transfer,
      maxSenseLength: request.maxSenseLength,
    };
    map.set(data, prepared);
    if (map.size > PREPARED_MAX) {
      const [oldest, entry] = map.entries().next().value as [Uint8Array, Prepared];
      map.delete(oldest);
      entry.command.release();
    }
    return prepared;
  }

  /**
   * sg: grows the queue fd's reserved buffer to a transfer prepared for reuse, as sg_dd and
   * sgp_dd size theirs to bs x bpt. An indirect request that fits the reserve while it is free
   * links it (sg_start_req -> sg_link_reserve in drivers/scsi/sg.c) instead of allocating and
   * freeing its pages at every command (sg_build_indirect, sg_remove_scat), which at 512 KiB
   * is most of the cost of a command. SG_SET_RESERVED_SIZE answers EBUSY while a request holds
   * the reserve (sg_ioctl): the next prepared buffer tries again. The driver caps the size at
   * the queue's max_sectors (sg_ioctl) and may keep less under memory pressure (sg_build_reserve
   * halves): both are fine, the reserve is only an optimisation.
   */
  #growReserve(length: number): void {
    const want = Math.min(Math.ceil(length / PAGE_SIZE) * PAGE_SIZE, RESERVE_MAX);
    if (want <= this.#reserveAsked) return;
    try {
      this.#node.setReservedSize(want);
      this.#reserveAsked = want;
    } catch {
      // EBUSY (the reserve is in use) or ENOMEM: keep the current reserve.
    }
  }

  /**
   * Runs a prepared command with the next request's CDB. Requests submitted in the same
   * JavaScript turn (a queue-depth loop refilling its slots) go out together in one batch at
   * the end of the turn: one writev() on sg instead of one write() each.
   */
  #batched(prepared: Prepared, cdb: Uint8Array): Promise<TransportResult> {
    prepared.cdb.set(cdb);
    prepared.busy = true;
    return new Promise<TransportResult>((resolve, reject) => {
      if (this.#batch.push({ prepared, resolve, reject }) === 1) queueMicrotask(this.#flush);
    });
  }

  readonly #flush = (): void => {
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    const runs =
      batch.length === 1
        ? [(batch[0] as Pending).prepared.command.run()]
        : this.#node.runMany(batch.map((b) => b.prepared.command));
    for (let i = 0; i < batch.length; i++) {
      const b = batch[i] as Pending;
      (runs[i] as Promise<void>).then(
        () => {
          b.prepared.busy = false;
          b.resolve(decodeFrameResult(b.prepared.frame));
        },
        (error: unknown) => {
          b.prepared.busy = false;
          b.reject(error);
        },
      );
    }
  };

  /** Native memory the kernel uses in place on every path of this node (no bounce copy). */
  allocateBuffer(length: number): Uint8Array {
    return KernelNode.allocateBuffer(length);
  }

  #reserveOf(data: DataBuffer | undefined): MappedReserve {
    if (!(data instanceof Uint8Array)) {
      throw new InvalidFieldError('data', 'must be one buffer from mapReservedBuffer() for mmap-ed IO', data);
    }
    const reserve = this.#reserves.get(data.buffer);
    if (reserve === undefined) {
      throw new InvalidFieldError(
        'data',
        "must come from this device's mapReservedBuffer() for mmap-ed IO",
        data,
      );
    }
    if (data.byteOffset !== 0) {
      throw new InvalidFieldError(
        'data',
        'must start at offset 0 of its mmap-ed buffer (SG_FLAG_MMAP_IO moves data from the start of the reserve)',
        data.byteOffset,
      );
    }
    return reserve;
  }

  /**
   * An mmap-ed sg reserved buffer of `length` bytes on a new O_RDWR fd of the same node (one
   * mmap-ed request per fd at a time: sg_new_write refuses a second with EBUSY). The reserve is
   * rounded up to whole pages as sg_read does; the driver may keep less (sg_build_reserve halves
   * on allocation failure), which is an OsError ENOMEM here rather than a short buffer.
   */
  mapReservedBuffer(length: number): Uint8Array {
    if (!this.capabilities.mmap) {
      throw new NotSupportedError(
        'mmap-ed IO',
        `${this.capabilities.name} on ${this.location}: only an sg node opened read-write has an mmap-able reserve here`,
      );
    }
    if (!Number.isSafeInteger(length) || length < 1) {
      throw new InvalidFieldError('length', 'must be a positive integer', length);
    }
    const rounded = Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
    const node = KernelNode.open(this.location, { readOnly: false, exclusive: false });
    try {
      const kept = node.setReservedSize(rounded);
      if (kept < length) {
        throw new InvalidFieldError(
          'length',
          `must fit the sg reserved buffer: the driver kept ${kept} bytes (queue max_sectors and memory cap it)`,
          length,
        );
      }
      const buffer = node.mapReserve(rounded);
      this.#reserves.set(buffer, { node, length: rounded });
      return new Uint8Array(buffer, 0, length);
    } catch (error) {
      void node.close();
      throw error;
    }
  }

  /**
   * LOGICAL UNIT RESET through SG_SCSI_RESET (SG_SCSI_RESET_DEVICE, not escalated), on a
   * thread-pool thread (the ioctl sleeps until the device answered). The ioctl needs
   * CAP_SYS_ADMIN and CAP_SYS_RAWIO (scsi_ioctl_reset: EACCES otherwise), checked first so the
   * refusal says so.
   */
  taskManagement(fn: TaskManagementFunction): Promise<TaskManagementResult> {
    if (!this.capabilities.taskManagement.includes(fn)) {
      return Promise.reject(
        new NotSupportedError(fn.replace(/_/g, ' '), `${this.capabilities.name}: ${this.capabilities.note}`),
      );
    }
    if (!hasCapability(Capability.SYS_ADMIN) || !hasCapability(Capability.SYS_RAWIO)) {
      return Promise.reject(
        new PermissionDeniedError(
          `LOGICAL UNIT RESET through SG_SCSI_RESET needs CAP_SYS_ADMIN and CAP_SYS_RAWIO (scsi_ioctl_reset in drivers/scsi/scsi_error.c): run as root or grant both`,
          13,
        ),
      );
    }
    let reset: Promise<void>;
    try {
      reset = this.#node.resetLogicalUnit();
    } catch (error) {
      return Promise.reject(error);
    }
    return reset.then(() => ({
      fn: TaskManagementFunction.LOGICAL_UNIT_RESET,
      response: TmfResponse.FUNCTION_COMPLETE,
      responseName: tmfResponseName(TmfResponse.FUNCTION_COMPLETE),
      aborted: [],
    }));
  }

  /** Requests in the kernel settle with their results, then every fd of the transport is closed. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    for (const map of [this.#preparedIn, this.#preparedOut]) {
      for (const p of map.values()) p.command.release();
      map.clear();
    }
    const nodes = [this.#node, ...[...this.#reserves.values()].map((r) => r.node)];
    this.#reserves.clear();
    this.#closing = Promise.all([...nodes.map((node) => node.close()), this.#ring?.close()]).then(
      () => undefined,
    );
    return this.#closing;
  }

  ref(): void {
    this.#node.ref();
    this.#ring?.ref();
  }

  unref(): void {
    this.#node.unref();
    this.#ring?.unref();
  }
}
