/**
 * Task management functions (SAM-6 7) and their codes on each transport
 * (Linux 6.1 include/scsi/sas.h, include/scsi/srp.h, include/scsi/fc/fc_fcp.h,
 * include/scsi/iscsi_proto.h, include/target/target_core_base.h, include/uapi/linux/virtio_scsi.h).
 * @module
 */
import { InvalidFieldError } from '../errors/invalid-field-error.js';
import { NotSupportedError } from '../errors/request-errors.js';
import { hexByte } from '../format/index.js';
import type { ScsiTransport } from '../tags/task-attribute.js';

/** The nine SAM task management functions. */
export const TaskManagementFunction = {
  ABORT_TASK: 'ABORT_TASK',
  ABORT_TASK_SET: 'ABORT_TASK_SET',
  CLEAR_TASK_SET: 'CLEAR_TASK_SET',
  LOGICAL_UNIT_RESET: 'LOGICAL_UNIT_RESET',
  I_T_NEXUS_RESET: 'I_T_NEXUS_RESET',
  CLEAR_ACA: 'CLEAR_ACA',
  QUERY_TASK: 'QUERY_TASK',
  QUERY_TASK_SET: 'QUERY_TASK_SET',
  QUERY_ASYNCHRONOUS_EVENT: 'QUERY_ASYNCHRONOUS_EVENT',
} as const;

/** One of the {@link TaskManagementFunction} names. */
export type TaskManagementFunction = (typeof TaskManagementFunction)[keyof typeof TaskManagementFunction];

type CodeTable = Readonly<Partial<Record<TaskManagementFunction, number>>>;

/**
 * SAS SSP TASK frame codes (include/scsi/sas.h TMF_*); UAS (USB Attached SCSI, its Task
 * Management IU) uses the same values.
 */
const SAM_TMF_CODES: CodeTable = {
  ABORT_TASK: 0x01,
  ABORT_TASK_SET: 0x02,
  CLEAR_TASK_SET: 0x04,
  LOGICAL_UNIT_RESET: 0x08,
  I_T_NEXUS_RESET: 0x10,
  CLEAR_ACA: 0x40,
  QUERY_TASK: 0x80,
  QUERY_TASK_SET: 0x81,
  QUERY_ASYNCHRONOUS_EVENT: 0x82,
};

/**
 * Function codes by transport; a missing entry means the transport has no such function.
 * SAS SSP and UAS share the TMF_* codes; FCP uses a bit in FCP_CMND's task management flags;
 * iSCSI uses its Task Management Function Request codes; virtio-scsi its TMF subtypes.
 */
const TMF_CODES: Readonly<Record<ScsiTransport, CodeTable>> = {
  sas: SAM_TMF_CODES,
  uas: SAM_TMF_CODES,
  srp: {
    ABORT_TASK: 0x01,
    ABORT_TASK_SET: 0x02,
    CLEAR_TASK_SET: 0x04,
    LOGICAL_UNIT_RESET: 0x08,
    CLEAR_ACA: 0x40,
  },
  fcp: { ABORT_TASK_SET: 0x02, CLEAR_TASK_SET: 0x04, LOGICAL_UNIT_RESET: 0x10, CLEAR_ACA: 0x40 },
  iscsi: { ABORT_TASK: 1, ABORT_TASK_SET: 2, CLEAR_ACA: 3, CLEAR_TASK_SET: 4, LOGICAL_UNIT_RESET: 5 },
  lio: { ABORT_TASK: 1, ABORT_TASK_SET: 2, CLEAR_ACA: 3, CLEAR_TASK_SET: 4, LOGICAL_UNIT_RESET: 5 },
  'virtio-scsi': {
    ABORT_TASK: 0,
    ABORT_TASK_SET: 1,
    CLEAR_ACA: 2,
    CLEAR_TASK_SET: 3,
    I_T_NEXUS_RESET: 4,
    LOGICAL_UNIT_RESET: 5,
    QUERY_TASK: 6,
    QUERY_TASK_SET: 7,
  },
  spi: {},
};

/**
 * The code of `tmf` on `transport`. NotSupportedError when the transport has no such function
 * (e.g. FCP has no ABORT TASK: an FC initiator aborts an exchange with ABTS instead).
 */
export function tmfCode(tmf: TaskManagementFunction, transport: ScsiTransport): number {
  const table = TMF_CODES[transport];
  if (table === undefined)
    throw new InvalidFieldError(
      'transport',
      `must be one of ${Object.keys(TMF_CODES).join(', ')}`,
      transport,
    );
  if (!(tmf in TaskManagementFunction)) {
    throw new InvalidFieldError(
      'tmf',
      `must be one of ${Object.keys(TaskManagementFunction).join(', ')}`,
      tmf,
    );
  }
  const code = table[tmf];
  if (code === undefined)
    throw new NotSupportedError(tmf.replace(/_/g, ' '), `${transport} defines no code for it`);
  return code;
}

/** The TMF a transport code stands for, or undefined. */
export function tmfFromCode(code: number, transport: ScsiTransport): TaskManagementFunction | undefined {
  const table = TMF_CODES[transport] ?? {};
  return (Object.entries(table) as [TaskManagementFunction, number][]).find(([, c]) => c === code)?.[0];
}

/** The transports that define `tmf`. */
export function transportsSupportingTmf(tmf: TaskManagementFunction): ScsiTransport[] {
  return (Object.keys(TMF_CODES) as ScsiTransport[]).filter((t) => TMF_CODES[t][tmf] !== undefined);
}

/** SAS TMF response codes (include/scsi/sas.h TMF_RESP_*; SAS RESPONSE frame RESPONSE CODE). */
export const TmfResponse = {
  FUNCTION_COMPLETE: 0x00,
  INVALID_FRAME: 0x02,
  FUNCTION_NOT_SUPPORTED: 0x04,
  FUNCTION_FAILED: 0x05,
  FUNCTION_SUCCEEDED: 0x08,
  INCORRECT_LUN: 0x09,
  OVERLAPPED_TAG: 0x0a,
} as const;

/** One of the {@link TmfResponse} codes. */
export type TmfResponse = (typeof TmfResponse)[keyof typeof TmfResponse];

/** `FUNCTION SUCCEEDED` for 0x08; `reserved 0x..` otherwise. */
export function tmfResponseName(code: number): string {
  const hit = Object.entries(TmfResponse).find(([, c]) => c === code);
  return hit ? hit[0].replace(/_/g, ' ') : `reserved ${hexByte(code)}`;
}
