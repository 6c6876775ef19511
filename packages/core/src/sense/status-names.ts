/**
 * Names of the three status values a completed pass-through request reports:
 * the SCSI status byte (SAM), the Linux host byte (`DID_*`) and the Linux driver byte.
 * @module
 */
import { hexDigits } from '../format/index.js';

/**
 * SCSI status codes (SAM-5 table "Status codes"; Linux 6.1 `enum sam_status` in
 * include/scsi/scsi_proto.h). Obsolete codes are kept because old devices still return them.
 */
export const ScsiStatus = {
  /** The command completed. */
  GOOD: 0x00,
  /** Sense data describes an error or exception. */
  CHECK_CONDITION: 0x02,
  /** A PRE-FETCH found the requested range in cache. */
  CONDITION_MET: 0x04,
  /** The logical unit cannot accept the command now. */
  BUSY: 0x08,
  /** Obsolete (linked commands). */
  INTERMEDIATE: 0x10,
  /** Obsolete (linked commands). */
  INTERMEDIATE_CONDITION_MET: 0x14,
  /** Another initiator holds a reservation. */
  RESERVATION_CONFLICT: 0x18,
  /** Obsolete. */
  COMMAND_TERMINATED: 0x22,
  /** The task set is full (queue depth exceeded). */
  TASK_SET_FULL: 0x28,
  /** An ACA condition exists. */
  ACA_ACTIVE: 0x30,
  /** Another I_T nexus or a TMF aborted the command. */
  TASK_ABORTED: 0x40,
} as const;

const STATUS_NAMES: ReadonlyMap<number, string> = new Map([
  [0x00, 'GOOD'],
  [0x02, 'CHECK CONDITION'],
  [0x04, 'CONDITION MET'],
  [0x08, 'BUSY'],
  [0x10, 'INTERMEDIATE'],
  [0x14, 'INTERMEDIATE-CONDITION MET'],
  [0x18, 'RESERVATION CONFLICT'],
  [0x22, 'COMMAND TERMINATED'],
  [0x28, 'TASK SET FULL'],
  [0x30, 'ACA ACTIVE'],
  [0x40, 'TASK ABORTED'],
]);

/**
 * The T10 name of a SCSI status byte, e.g. `CHECK CONDITION`; `reserved status 0x..`
 * for codes SAM does not define. Only bits 1..5 carry the status in SAM-3 and later
 * (bits 0, 6, 7 were vendor/reserved), but the kernel reports the whole byte, so the
 * whole byte is looked up.
 */
export function scsiStatusName(status: number): string {
  return STATUS_NAMES.get(status) ?? `reserved status 0x${hexDigits(status)}`;
}

/**
 * Linux host bytes (`enum scsi_host_status` in include/scsi/scsi_status.h, 6.1):
 * what the HBA driver and the transport report, in `transport_status` of an
 * sg_io_v4 header and `host_status` of an sg_io_hdr.
 */
export const HostStatus = {
  DID_OK: 0x00,
  DID_NO_CONNECT: 0x01,
  DID_BUS_BUSY: 0x02,
  DID_TIME_OUT: 0x03,
  DID_BAD_TARGET: 0x04,
  DID_ABORT: 0x05,
  DID_PARITY: 0x06,
  DID_ERROR: 0x07,
  DID_RESET: 0x08,
  DID_BAD_INTR: 0x09,
  DID_PASSTHROUGH: 0x0a,
  DID_SOFT_ERROR: 0x0b,
  DID_IMM_RETRY: 0x0c,
  DID_REQUEUE: 0x0d,
  DID_TRANSPORT_DISRUPTED: 0x0e,
  DID_TRANSPORT_FAILFAST: 0x0f,
  DID_TARGET_FAILURE: 0x10,
  DID_NEXUS_FAILURE: 0x11,
  DID_ALLOC_FAILURE: 0x12,
  DID_MEDIUM_ERROR: 0x13,
  DID_TRANSPORT_MARGINAL: 0x14,
} as const;

const HOST_NAMES: readonly string[] = Object.keys(HostStatus);

/** Kernel comments for each host byte, as one-line meanings. */
const HOST_MEANINGS: readonly string[] = [
  'no error',
  "couldn't connect before timeout period",
  'bus stayed busy through time out period',
  'timed out for other reason',
  'bad target',
  'told to abort for some other reason',
  'parity error',
  'internal error',
  'reset by somebody',
  'got an interrupt we weren\u2019t expecting',
  'force command past mid-layer',
  'the low level driver wants a retry',
  'retry without decrementing retry count',
  'requeue command (no immediate retry) also without decrementing the retry count',
  'transport error disrupted execution and the driver blocked the port',
  'transport class fastfailed the I/O',
  'permanent target failure, do not retry on other paths',
  'permanent nexus failure, retry on other paths might yield different results',
  'space allocation on the device failed',
  'medium error',
  'transport marginal errors',
];

/** `DID_NO_CONNECT` for 0x01; `DID_0x..` for host bytes Linux 6.1 does not define. */
export function hostStatusName(hostStatus: number): string {
  return HOST_NAMES[hostStatus] ?? `DID_0x${hexDigits(hostStatus)}`;
}

/** The kernel's one-line meaning of a host byte, e.g. "couldn't connect before timeout period". */
export function hostStatusMeaning(hostStatus: number): string {
  return HOST_MEANINGS[hostStatus] ?? 'unknown host status';
}

/**
 * Linux driver byte values. Linux 6.1 dropped the driver byte from the midlayer; only
 * `DRIVER_SENSE` (0x08) is still reported, by the SG_IO paths when sense data was
 * returned (drivers/scsi/scsi_ioctl.c, drivers/scsi/sg.c, drivers/scsi/scsi_bsg.c).
 * Older kernels used the low nibble for the values below and the high nibble for
 * `SUGGEST_*` hints; sg3_utils still decodes both, and so does {@link driverStatusName}.
 */
export const DriverStatus = {
  DRIVER_OK: 0x00,
  DRIVER_BUSY: 0x01,
  DRIVER_SOFT: 0x02,
  DRIVER_MEDIA: 0x03,
  DRIVER_ERROR: 0x04,
  DRIVER_INVALID: 0x05,
  DRIVER_TIMEOUT: 0x06,
  DRIVER_HARD: 0x07,
  DRIVER_SENSE: 0x08,
} as const;

const DRIVER_NAMES: readonly string[] = Object.keys(DriverStatus);
const SUGGEST_NAMES: ReadonlyMap<number, string> = new Map([
  [0x10, 'SUGGEST_RETRY'],
  [0x20, 'SUGGEST_ABORT'],
  [0x30, 'SUGGEST_REMAP'],
  [0x40, 'SUGGEST_DIE'],
  [0x80, 'SUGGEST_SENSE'],
]);

/**
 * `DRIVER_SENSE` for 0x08; with an old-style suggestion nibble the two names are joined
 * by `|` (`DRIVER_TIMEOUT|SUGGEST_ABORT`); unknown nibbles print as hex.
 */
export function driverStatusName(driverStatus: number): string {
  const low = driverStatus & 0x0f;
  const high = driverStatus & 0xf0;
  const base = DRIVER_NAMES[low] ?? `DRIVER_0x${hexDigits(low)}`;
  if (high === 0) return base;
  return `${base}|${SUGGEST_NAMES.get(high) ?? `SUGGEST_0x${hexDigits(high)}`}`;
}
