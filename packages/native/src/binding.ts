/**
 * Hand-written declarations of the compiled addon's surface (`sgv4_native.node`,
 * C++ in `src/native/`). Only {@link loadAddon} sees these objects; the public API
 * wraps them in {@link ScsiHandle}.
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
  /** pack_id of the request. */
  packId: number;
  /** Milliseconds since submission (in flight) or the duration (done). */
  duration: number;
}

/** The native handle object (C++ `sgv4::DeviceHandle`). */
export interface NativeHandle {
  /** Node kind from fstat at open. */
  readonly kind: NodeKind;
  /** The fd, or -1 once closed. */
  readonly fd: number;
  /** Whether close() was called. */
  readonly closed: boolean;
  /** Requests the kernel still holds (threadpool SG_IO plus sg async). */
  readonly inFlight: number;
  /** Closes (deferred until the kernel is done with in-flight requests). */
  close(): void;
  /** SG_IO on the calling thread. */
  sgIoSync(
    header: Uint8Array,
    cdb: Uint8Array,
    sense: Uint8Array | null,
    dataOut: NativeData,
    dataIn: NativeData,
  ): void;
  /** SG_IO on the libuv threadpool. */
  sgIo(
    header: Uint8Array,
    cdb: Uint8Array,
    sense: Uint8Array | null,
    dataOut: NativeData,
    dataIn: NativeData,
  ): Promise<void>;
  /** sg write() submission, completion via poll + read(). */
  submit(
    header: Uint8Array,
    cdb: Uint8Array,
    sense: Uint8Array | null,
    dataOut: NativeData,
    dataIn: NativeData,
  ): Promise<void>;
  /** An int-returning ioctl from the addon's list. */
  ioctlGetInt(request: number): number;
  /** An int-taking ioctl from the addon's list. */
  ioctlSetInt(request: number, value: number): void;
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
  /** The poll handle keeps the event loop alive while requests are in flight. */
  ref(): NativeHandle;
  /** In-flight async sg requests no longer keep the event loop alive. */
  unref(): NativeHandle;
}

/** Constructor of {@link NativeHandle}: opens with O_CLOEXEC plus the given flags. */
export type NativeHandleConstructor = new (
  path: string,
  readWrite: boolean,
  nonBlocking: boolean,
  exclusive: boolean,
) => NativeHandle;

/** The module object the addon exports. */
export interface NativeAddon {
  /** The handle class. */
  NativeHandle: NativeHandleConstructor;
  /** Installs the error factories (per Node environment). */
  configure(
    osError: (errno: number, syscall: string, path: string | undefined) => Error,
    invalidField: (field: string, rule: string, value: number) => Error,
    aborted: (message: string) => Error,
  ): void;
  /** bsg's char major from /proc/devices, or -1. */
  bsgMajor(): number;
}
