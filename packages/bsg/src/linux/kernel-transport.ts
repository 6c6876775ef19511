/**
 * The Linux kernel transports: an sg, bsg or block node opened with the native addon. One class
 * serves the three nodes; what differs (how a request is queued, what the path can do) comes
 * from the node kind: sg O_RDWR fds use the write()/read() queue, everything else blocking
 * SG_IO on the libuv threadpool.
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
import { blockCapabilities, bsgCapabilities, sgCapabilities } from './kernel-capabilities.js';
import { KernelNode, type NodeData } from './native-node.js';
import { Capability, hasCapability } from './process-capabilities.js';
import { decodeFrameResult, encodeFrame, type Frame, FramePool } from './sg-io-frame.js';
import { deviceNodes, queueLimitsOf, type SysfsRoots, scsiDeviceOfNode } from './sysfs.js';

const PAGE_SIZE = 4096;

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
  readonly #queued: boolean;
  readonly #roots: SysfsRoots;
  readonly #frames = new FramePool();
  #inFlight = 0;
  #idle: (() => void) | undefined;
  readonly #reserves = new Map<ArrayBufferLike, MappedReserve>();
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
    this.#queued = kind === 'sg' && !options.readOnly;
    this.capabilities =
      kind === 'sg'
        ? sgCapabilities(!options.readOnly)
        : kind === 'bsg'
          ? bsgCapabilities()
          : blockCapabilities();
    this.permissions = {
      iface: kind,
      openMode: options.readOnly ? 'read-only' : 'read-write',
      capSysRawio: options.capSysRawio ?? hasCapability(Capability.SYS_RAWIO),
      submission: this.#queued ? 'write' : 'ioctl',
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
      node.close();
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

  submit(request: TransportRequest): Promise<TransportResult> {
    try {
      let node = this.#node;
      let queued = this.#queued;
      let mmapLength: number | undefined;
      let dataIn: NodeData = request.dataIn ?? null;
      let dataOut: NodeData = request.dataOut ?? null;
      if (request.transfer === 'mmap') {
        const data = request.dataIn ?? request.dataOut;
        const reserve = this.#reserveOf(data);
        node = reserve.node;
        queued = true;
        mmapLength = (data as Uint8Array).length;
        dataIn = null;
        dataOut = null;
      }
      const frame = this.#frames.acquire();
      encodeFrame(frame, request, {
        packId: Number(request.tag) & 0x7fff_ffff,
        tagInHeader: this.kind === 'bsg',
        ...(mmapLength !== undefined ? { mmapLength } : {}),
      });
      const sent = queued
        ? node.queue(frame.header, request.cdb, frame.sense, dataOut, dataIn)
        : node.sgIo(frame.header, request.cdb, frame.sense, dataOut, dataIn);
      this.#inFlight++;
      return sent.then(
        () => {
          const result = decodeFrameResult(frame);
          this.#settled(frame);
          return result;
        },
        (error: unknown) => {
          this.#settled(frame);
          throw error;
        },
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** A request left the kernel: its frame is free again; close() waits for the last one. */
  #settled(frame: Frame): void {
    this.#frames.release(frame);
    if (--this.#inFlight === 0) this.#idle?.();
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
      node.close();
      throw error;
    }
  }

  /**
   * LOGICAL UNIT RESET through SG_SCSI_RESET (SG_SCSI_RESET_DEVICE, not escalated). The ioctl
   * needs CAP_SYS_ADMIN and CAP_SYS_RAWIO (scsi_ioctl_reset: EACCES otherwise), checked first so
   * the refusal says so.
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
    try {
      this.#node.resetLogicalUnit();
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve({
      fn: TaskManagementFunction.LOGICAL_UNIT_RESET,
      response: TmfResponse.FUNCTION_COMPLETE,
      responseName: tmfResponseName(TmfResponse.FUNCTION_COMPLETE),
      aborted: [],
    });
  }

  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#node.close();
    for (const r of this.#reserves.values()) r.node.close();
    this.#reserves.clear();
    this.#closing =
      this.#inFlight === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            this.#idle = resolve;
          });
    return this.#closing;
  }

  ref(): void {
    this.#node.ref();
  }

  unref(): void {
    this.#node.unref();
  }
}
