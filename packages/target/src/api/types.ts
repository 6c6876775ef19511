/**
 * The public vocabulary of the embedded target: nexuses, tasks, responses, task management
 * requests and results, the logical unit configuration and its run-time knobs, and events.
 * @module
 */
import type {
  QueueLimits,
  SgTransferOptions,
  TaskAttribute,
  TaskManagementFunction,
  TmfResponse,
  TransferErrno,
  TransferInterface,
  UserIovec,
} from '@sgv4/core';

/**
 * An I_T nexus (SAM-6 4.6.x): one initiator port talking to one target port. Reservations,
 * unit attentions, tags and ABORT TASK SET are scoped by it.
 */
export interface ITNexus {
  /**
   * Initiator port name. For iSCSI the SCSI initiator port name
   * (`iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test,i,0x23d000000000`, RFC 7143 §4.2.7);
   * any non-empty string for in-process initiators.
   */
  readonly initiator: string;
  /** Target port name; defaults to the target's first port ({@link TargetOptions.ports}). */
  readonly targetPort?: string;
}

/**
 * Where the data of a request lies in the (modelled) initiator memory, for the QueueLimits
 * check: the same inputs as the core's `planTransfer()`. Omitted: one page-aligned flat
 * buffer of the transfer length on the bsg path.
 */
export interface DataLayout {
  /** Pass-through path the request would take on Linux (default `bsg`). */
  readonly iface?: TransferInterface;
  /** The buffers (address and length; `data` is not needed). One entry = a flat buffer. */
  readonly iovecs?: readonly UserIovec[];
  /** sg-only options (direct IO, mmap IO, reserve state). */
  readonly sg?: SgTransferOptions;
}

/** One SCSI command (a task, SAM-6 4.x) sent on an I_T nexus. */
export interface TaskRequest {
  /** Logical unit number (the single-level LUN, 0..16383). */
  readonly lun: number | bigint;
  /** Task tag, unique among this I_T_L nexus's outstanding tasks (SAM-6 4.6.x). */
  readonly tag: number | bigint;
  /** Task attribute (SAM-6 8.6); default SIMPLE. */
  readonly attribute?: TaskAttribute;
  /** Command priority 0..15 (SAM-6 8.7; 0 = vendor default, 1 highest, 15 lowest); default 0. */
  readonly priority?: number;
  /** The CDB (6..16 bytes). */
  readonly cdb: Uint8Array;
  /** Data-out buffer (writes, parameter lists). */
  readonly dataOut?: Uint8Array;
  /** Expected data-in transfer length (the initiator's buffer); default 0. */
  readonly dataInLength?: number;
  /**
   * Data layout for the QueueLimits check; omitted = a flat page-aligned buffer. `null`: the
   * command does not come through a Linux pass-through path at all (a network transport such
   * as the iSCSI portal, whose own negotiated limits bound it), so there is nothing to check.
   */
  readonly layout?: DataLayout | null;
}

/** The task completed with a status (SAM-6 5.3 service response TASK COMPLETE). */
export interface CompletedTaskResponse {
  /** Discriminant. */
  readonly outcome: 'completed';
  /** SCSI status (`ScsiStatus` of @sgv4/core). */
  readonly status: number;
  /** Sense data (fixed or descriptor format per the Control mode page D_SENSE bit); empty unless CHECK CONDITION. */
  readonly sense: Uint8Array;
  /** Data-in bytes actually transferred (at most `dataInLength`). */
  readonly dataIn: Uint8Array;
  /**
   * Data-in residual (RFC 7143 §11.4.5 / SAM-6 5.x): `dataInLength - dataIn.length` when the
   * command transferred less than expected (underflow, positive); the bytes the command wanted
   * to return beyond `dataInLength` as a negative number (overflow).
   */
  readonly dataInResidual: number;
  /** Data-out residual: expected data-out bytes the command did not consume (+), or missing bytes (-). */
  readonly dataOutResidual: number;
}

/** The task was aborted by a task management function or another event (SAM-6 5.6). */
export interface AbortedTaskResponse {
  /** Discriminant. */
  readonly outcome: 'aborted';
  /**
   * TASK ABORTED (0x40) when the task was aborted by another I_T nexus and the Control mode
   * page TAS bit is 1 (SAM-6 5.6); undefined otherwise (no status is returned).
   */
  readonly status?: number;
  /** What aborted it: a TMF name, `PREEMPT AND ABORT`, or `OVERLAPPED COMMAND`. */
  readonly abortedBy: TaskManagementFunction | 'PREEMPT AND ABORT' | 'OVERLAPPED COMMAND' | 'CLOSE';
  /** The I_T nexus that caused it. */
  readonly by: Required<ITNexus>;
}

/**
 * The request never reached the device: Linux would refuse it at submission (the data layout
 * breaks the LU's QueueLimits), with this errno.
 */
export interface RejectedTaskResponse {
  /** Discriminant. */
  readonly outcome: 'rejected';
  /** errno name Linux 6.1 returns (EINVAL, ENOMEM, EIO, EOPNOTSUPP, EBUSY). */
  readonly errno: TransferErrno;
  /** The rule and the kernel function that enforces it (from the core's transfer plan). */
  readonly rule: string;
}

/** What `execute()` resolves to. It always resolves (never rejects) once the task has ended. */
export type TaskResponse = CompletedTaskResponse | AbortedTaskResponse | RejectedTaskResponse;

/** A task management request (SAM-6 7). */
export interface TmfRequest {
  /** The function. */
  readonly function: TaskManagementFunction;
  /** Logical unit it addresses (ignored by I_T NEXUS RESET, which covers every LU). */
  readonly lun: number | bigint;
  /** Referenced task tag (ABORT TASK, QUERY TASK). */
  readonly tag?: number | bigint;
}

/** One task as a TMF result names it. */
export interface TaskReference {
  /** Its I_T nexus. */
  readonly nexus: Required<ITNexus>;
  /** Its LUN. */
  readonly lun: bigint;
  /** Its tag. */
  readonly tag: bigint;
}

/** The service response of a TMF and what it did. */
export interface TmfResult {
  /** Service response as the SAS/core code (FUNCTION COMPLETE, FUNCTION SUCCEEDED, ...). */
  readonly response: TmfResponse;
  /** Its name, e.g. `FUNCTION COMPLETE`. */
  readonly responseName: string;
  /** Tasks the function aborted. */
  readonly aborted: readonly TaskReference[];
  /** QUERY TASK / QUERY TASK SET: the tasks found. */
  readonly matched: readonly TaskReference[];
  /**
   * QUERY ASYNCHRONOUS EVENT with FUNCTION SUCCEEDED: ADDITIONAL RESPONSE INFORMATION
   * (SAM-6 7.x: UADE DEPTH, SENSE KEY, ASC, ASCQ of the pending unit attention).
   */
  readonly additionalResponseInformation?: Uint8Array;
}

/** Memory backing: sparse, allocated in chunks as written; unwritten blocks read as zeros. */
export interface MemoryBacking {
  /** Discriminant. */
  readonly kind: 'memory';
}

/** File backing: a raw image file (created or extended to the capacity), real I/O with fsync. */
export interface FileBacking {
  /** Discriminant. */
  readonly kind: 'file';
  /** Path of the image. */
  readonly path: string;
}

/** Where a logical unit keeps its blocks. */
export type Backing = MemoryBacking | FileBacking;

/** Command latency, like scsi_debug's `delay`/`ndelay` plus a jitter. */
export interface LatencySpec {
  /** Fixed part in nanoseconds (0 = complete as soon as processed, deterministic order). */
  readonly nanoseconds: number;
  /** Uniform random extra in 0..jitter nanoseconds (default 0). */
  readonly jitterNanoseconds?: number;
}

/** A range of LBAs that fail with MEDIUM ERROR. */
export interface MediumErrorRange {
  /** First bad LBA. */
  readonly lba: number | bigint;
  /** Number of bad blocks (default 1). */
  readonly count?: number;
  /** Which accesses fail: `read` (11/00 UNRECOVERED READ ERROR, default), `write` (0C/00 WRITE ERROR) or both. */
  readonly on?: 'read' | 'write' | 'both';
}

/** What happens to every n-th command (scsi_debug `every_nth` with `opts`). */
export interface EveryNthFault {
  /** Period (>= 1): the n-th, 2n-th, ... command received by the LU. */
  readonly n: number;
  /**
   * `timeout`: the device never answers (the task stays in the task set, holding its tag,
   * until a TMF aborts it); `aborted-command`: CHECK CONDITION, ABORTED COMMAND,
   * 4B/03 ACK/NAK TIMEOUT (scsi_debug's transport error); `busy`: BUSY status.
   */
  readonly action: 'timeout' | 'aborted-command' | 'busy';
}

/** Fault injection knobs. */
export interface FaultSpec {
  /** LBAs that fail with MEDIUM ERROR (INFORMATION = the first bad LBA of the request). */
  readonly mediumErrors?: readonly MediumErrorRange[];
  /** A fault for every n-th command. */
  readonly everyNth?: EveryNthFault;
  /**
   * NOT READY for media-access commands: `becoming-ready` (04/01), `start-required`
   * (04/02 INITIALIZING COMMAND REQUIRED, also after START STOP UNIT stop), `no-medium`
   * (3A/00), or false (ready).
   */
  readonly notReady?: false | 'becoming-ready' | 'start-required' | 'no-medium';
}

/** The knobs that can change while the target runs (`ScsiTarget.configure()`). */
export interface LogicalUnitKnobs {
  /** Latency per command (default 0). */
  readonly latency?: LatencySpec;
  /** Faults (default none). */
  readonly faults?: FaultSpec;
  /** Task set size for the whole LU (SAM-6 task set; default 64). Beyond it: TASK SET FULL / BUSY. */
  readonly queueDepth?: number;
  /** Tasks processed at once (enabled tasks; default = queueDepth). 1 makes HEAD OF QUEUE observable. */
  readonly concurrency?: number;
  /** Capacity in logical blocks; changing it sets UNIT ATTENTION 2A/09 CAPACITY DATA HAS CHANGED. */
  readonly capacityBlocks?: number | bigint;
  /** Hardware write protect (DATA PROTECT 27/00 on writes; WP bit in MODE SENSE). */
  readonly writeProtected?: boolean;
}

/** One logical unit at creation. */
export interface LogicalUnitOptions extends LogicalUnitKnobs {
  /** LUN (0..16383); default the position in {@link TargetOptions.logicalUnits}. */
  readonly lun?: number | bigint;
  /** Backing store (default memory). */
  readonly backing?: Backing;
  /** Logical block size, 512 or 4096 (default 512). */
  readonly blockSize?: 512 | 4096;
  /** Capacity in bytes (alternative to `capacityBlocks`; default 64 MiB). */
  readonly sizeBytes?: number | bigint;
  /** Thin provisioning (LBPME: UNMAP, WRITE SAME with UNMAP, GET LBA STATUS); default true. */
  readonly thinProvisioning?: boolean;
  /** Queue limits of the LU as Linux would see it (default: the core's `scsi-debug` preset at this block size). */
  readonly queueLimits?: QueueLimits;
  /** Unit serial number (VPD 0x80); default derived from target name and LUN. */
  readonly serialNumber?: string;
  /** Set UNIT ATTENTION 29/00 POWER ON for every I_T nexus at creation (default true, like a real disk). */
  readonly powerOnUnitAttention?: boolean;
}

/** A target at creation. */
export interface TargetOptions {
  /** Target name, used in designators and event payloads (default `sgv4-target`). */
  readonly name?: string;
  /** T10 VENDOR IDENTIFICATION (8 chars; default `SGV4`). */
  readonly vendor?: string;
  /** PRODUCT IDENTIFICATION (16 chars; default `EMBEDDED DISK`). */
  readonly product?: string;
  /** PRODUCT REVISION LEVEL (4 chars; default `0001`). */
  readonly revision?: string;
  /** Target port names (relative target port identifiers 1, 2, ...); default one port `<name>,t,0x0001`. */
  readonly ports?: readonly string[];
  /** Protocol for TransportIDs in PERSISTENT RESERVE IN READ FULL STATUS (default `sas`). */
  readonly protocol?: 'iscsi' | 'sas';
  /** The logical units (at least one; LUN 0 must be among them). */
  readonly logicalUnits: readonly LogicalUnitOptions[];
}

/** Events the target emits (for tests and tracing); each listener gets one payload object. */
export interface TargetEvents {
  /** A task entered the task set (before any ordering wait). */
  'task-received': TaskEvent;
  /** A task became enabled and its command is being processed. */
  'task-started': TaskEvent;
  /** A task completed with a status. */
  'task-completed': TaskEvent & { readonly status: number };
  /** A task was aborted. */
  'task-aborted': TaskEvent & { readonly abortedBy: AbortedTaskResponse['abortedBy'] };
  /** A task management function arrived. */
  'tmf-received': { readonly nexus: Required<ITNexus>; readonly request: TmfRequest };
  /** A task management function finished. */
  'tmf-completed': {
    readonly nexus: Required<ITNexus>;
    readonly request: TmfRequest;
    readonly result: TmfResult;
  };
}

/** Payload of the task events. */
export interface TaskEvent {
  /** The task. */
  readonly task: TaskReference;
  /** Its attribute. */
  readonly attribute: TaskAttribute;
  /** OPERATION CODE. */
  readonly opcode: number;
  /** Monotonic sequence number of the task within its LU (arrival order). */
  readonly sequence: number;
}
