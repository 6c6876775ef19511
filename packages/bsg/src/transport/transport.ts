/**
 * The transport interface: what a way of reaching a logical unit (the Linux sg, bsg or block
 * SG_IO paths, the embedded target, an iSCSI session) must implement so a {@link Device} can
 * drive it. Types only, as serialport's bindings-interface: every transport is checked by the
 * same conformance suite instead of sharing code.
 * @module
 */
import type {
  AssumedLimit,
  CommandOutcome,
  DataBuffer,
  PermissionInterface,
  PermissionOpenMode,
  PermissionSubmission,
  QueueLimits,
  TaskAttribute,
  TaskManagementFunction,
  TmfResponse,
} from '@sgv4/core';

/**
 * How the data of a request travels: `indirect` through a kernel (or transport) buffer,
 * `direct` straight to and from the caller's pages, `mmap` through a buffer from
 * {@link Transport.mapReservedBuffer} that the transport shares with the kernel.
 */
export type TransferMode = 'indirect' | 'direct' | 'mmap';

/** One command as the Device hands it over: validated, tagged and permission-checked. */
export interface TransportRequest {
  /** The CDB, 1..32 bytes. */
  readonly cdb: Uint8Array;
  /** Buffer for data from the device (iovecs only when {@link DeviceCapabilities.iovecs}). */
  readonly dataIn?: DataBuffer;
  /** Data to the device. Never set together with `dataIn`. */
  readonly dataOut?: DataBuffer;
  /** The task tag, unique among the Device's outstanding tasks (SAM-6 5.4). */
  readonly tag: bigint;
  /** Task attribute; transports with `taskAttributes: 'wire'` send it. */
  readonly attribute: TaskAttribute;
  /** SAM-6 command priority 0..15; sent when {@link DeviceCapabilities.priorityOnWire}. */
  readonly priority: number;
  /** Timeout in milliseconds, > 0 (the Device applies its default). */
  readonly timeoutMs: number;
  /** Queue position for paths that take one; absent = the path's default. */
  readonly queueAt?: 'head' | 'tail';
  /** Data transfer mode. */
  readonly transfer: TransferMode;
  /** Size of the sense buffer to offer (default 96, SCSI_SENSE_BUFFERSIZE). */
  readonly maxSenseLength: number;
}

/**
 * A command the transport completed, whatever its SCSI status, host byte or driver byte: the
 * core's {@link CommandOutcome} without the sg_io_v4 header's own fields.
 */
export interface TransportResult extends Omit<CommandOutcome, 'generatedTag' | 'usrPtr'> {
  /** The transport's own timeout fired (for transports without a host byte, e.g. iSCSI). */
  readonly timedOut?: boolean;
}

/** The outcome of a task management function. */
export interface TaskManagementResult {
  /** The function. */
  readonly fn: TaskManagementFunction;
  /** Service response, as the core's SAS-coded {@link TmfResponse}. */
  readonly response: TmfResponse;
  /** Its name, e.g. `FUNCTION COMPLETE`. */
  readonly responseName: string;
  /** Tags of this Device's tasks the function aborted. */
  readonly aborted: readonly bigint[];
}

/** What a transport can do. A Device refuses at the call what is not listed here (NotSupportedError). */
export interface DeviceCapabilities {
  /** Name, e.g. `sg v3 (Linux 6.1)`. */
  readonly name: string;
  /** Task tags reach the device; false = software tags known only to the library. */
  readonly tagsOnWire: boolean;
  /** Largest tag + 1 the transport carries (software tags: what the Device hands out). */
  readonly tagSpace: bigint;
  /**
   * `wire`: task attributes are sent to the device. `initiator`: the path drops them (6.1
   * sg/bsg/block), so the Device orders its own queue to give ORDERED and HEAD OF QUEUE their
   * SAM meaning among its own tasks.
   */
  readonly taskAttributes: 'wire' | 'initiator';
  /** Command priority reaches the device; otherwise the Device's queue uses it. */
  readonly priorityOnWire: boolean;
  /** One task in flight can be aborted (ABORT TASK or equivalent). */
  readonly abortInFlight: boolean;
  /** Task management functions the transport can send. */
  readonly taskManagement: readonly TaskManagementFunction[];
  /** Scatter/gather lists of user buffers (iovecs) are accepted. */
  readonly iovecs: boolean;
  /**
   * Direct (zero-copy) IO: `flag` when asked for (sg's SG_FLAG_DIRECT_IO), `automatic` when the
   * path maps aligned buffers itself (bsg and block SG_IO, blk_rq_map_user_iov), `none`.
   */
  readonly directIo: 'flag' | 'automatic' | 'none';
  /** mmap-ed IO through {@link Transport.mapReservedBuffer} (sg's reserved buffer). */
  readonly mmap: boolean;
  /** Requests the transport itself keeps in flight; the Device queues the rest. */
  readonly maxQueueDepth: number;
  /** Shortest timeout the path honours (bsg/block raise shorter ones to 7 s); the Device enforces shorter ones. */
  readonly minTimeoutMs: number;
  /** One sentence: why, with the kernel source or standard it follows. */
  readonly note: string;
}

/** The command permission filter a kernel path applies, for the Device's pre-check. */
export interface TransportPermissionProfile {
  /** Which node: sg, bsg or block SG_IO. */
  readonly iface: PermissionInterface;
  /** How it was opened. */
  readonly openMode: PermissionOpenMode;
  /** The caller has CAP_SYS_RAWIO. */
  readonly capSysRawio: boolean;
  /** sg: SG_IO ioctl, or write(2) of the v3 header (never filtered). */
  readonly submission: PermissionSubmission;
  /** block: the node is a partition. */
  readonly partition: boolean;
}

/** Where a logical unit is and what its queue accepts. */
export interface TransportDescription {
  /** Address: `H:C:T:L` for kernel nodes, `emu:<name>/<lun>`, an iSCSI URL... */
  readonly address: string;
  /** Linux SCSI address, for kernel nodes. */
  readonly hctl?: Hctl;
  /** The kernel nodes of the same logical unit. */
  readonly nodes?: DeviceNodes;
  /** Request-queue limits (the core's model). */
  readonly queueLimits: QueueLimits;
  /** Limits the source does not show, with the value assumed. */
  readonly assumedLimits: readonly AssumedLimit[];
  /** Where the limits came from, e.g. `sysfs:/sys/block/sda/queue`. */
  readonly limitsSource: string;
  /** The device's own queue depth (sysfs queue_depth, target queue depth), when known. */
  readonly deviceQueueDepth?: number;
  /** Largest single request the path takes, when it is below what the queue limits allow (sg: 256 MiB). */
  readonly maxRequestBytes?: number;
  /** Peripheral device type, when the transport knows it without INQUIRY (sysfs `type`). */
  readonly peripheralType?: number;
}

/** A Linux SCSI address (host:channel:target:lun). */
export interface Hctl {
  /** Host (adapter) number. */
  readonly host: number;
  /** Channel (bus). */
  readonly channel: number;
  /** Target id. */
  readonly target: number;
  /** Logical unit number (Linux flat LUN). */
  readonly lun: bigint;
}

/** The kernel device nodes of one logical unit. */
export interface DeviceNodes {
  /** `/dev/sgN`. */
  readonly sg?: string;
  /** `/dev/bsg/H:C:T:L`. */
  readonly bsg?: string;
  /** `/dev/sdX` (or another block node). */
  readonly block?: string;
}

/** A way of reaching one logical unit. */
export interface Transport {
  /** `sg`, `bsg`, `block`, `emu`, `iscsi`... */
  readonly kind: string;
  /** What was opened: a path or a URL. */
  readonly location: string;
  /** Opened without write access. */
  readonly readOnly: boolean;
  /** What the transport can do. */
  readonly capabilities: DeviceCapabilities;
  /** The kernel filter the path applies; undefined when no command filter applies. */
  readonly permissions?: TransportPermissionProfile;
  /** Address, nodes and limits. */
  describe(): Promise<TransportDescription>;
  /**
   * Sends one command. Resolves for every completed command, whatever its status; rejects only
   * when there is no response: OsError, AbortedError (close or abort), InvalidFieldError.
   */
  submit(request: TransportRequest): Promise<TransportResult>;
  /** Aborts a task in flight (only with `capabilities.abortInFlight`); false when unknown or finished. */
  abort?(tag: bigint): Promise<boolean>;
  /** Sends a task management function listed in `capabilities.taskManagement`. */
  taskManagement?(fn: TaskManagementFunction, tag?: bigint): Promise<TaskManagementResult>;
  /**
   * Memory the transport's data path uses without a copy (e.g. page-aligned native memory the
   * kernel may map directly); absent = any Uint8Array is as good.
   */
  allocateBuffer?(length: number): Uint8Array;
  /** The sg reserved buffer mmap-ed, for `transfer: 'mmap'` (with `capabilities.mmap`). */
  mapReservedBuffer?(length: number): Uint8Array;
  /**
   * The Device's queue depth (the most requests it keeps in flight), told once before the first
   * request, for transports that size resources by it (bsg: the ring's registered buffers).
   */
  setQueueDepth?(depth: number): void;
  /** Settles every request in flight, then releases the transport. */
  close(): Promise<void>;
  /** Requests in flight keep the event loop alive (the default). */
  ref?(): void;
  /** Requests in flight no longer keep the event loop alive. */
  unref?(): void;
}

/** Options a transport factory receives from `open()`. */
export interface TransportOpenOptions {
  /** Open without write access. */
  readonly readOnly: boolean;
  /** Exclusive open (O_EXCL), where the path has one. */
  readonly exclusive: boolean;
  /** Override the caller's CAP_SYS_RAWIO for the permission pre-check. */
  readonly capSysRawio?: boolean;
  /** Cancels the open. */
  readonly signal?: AbortSignal;
}

/** Opens transports for one URL scheme (`emu:`, `iscsi://`). */
export interface TransportFactory {
  /** The scheme without the colon, lower case: `emu`, `iscsi`. */
  readonly scheme: string;
  /** One line for `sgv4 list --transports` and error messages. */
  readonly description: string;
  /** Opens `location` (the whole string, scheme included). */
  open(location: string, options: TransportOpenOptions): Promise<Transport>;
}
