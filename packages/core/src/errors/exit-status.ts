/**
 * Process exit statuses of the `sgv4` command and the outcome categories behind them.
 *
 * The numbers are sg3_utils' stable `SG_LIB_*` values (include/sg_lib.h), so
 * scripts written against sg3_utils tools read sgv4's exit statuses the same way.
 * @module
 */

/** sg3_utils' exit statuses (`SG_LIB_CAT_*`, `SG_LIB_*`), by name. */
export const ExitStatus = {
  /** No error (`SG_LIB_CAT_CLEAN`). */
  CLEAN: 0,
  /** Command-line syntax problem (`SG_LIB_SYNTAX_ERROR`). */
  SYNTAX_ERROR: 1,
  /** Sense key NOT READY (`SG_LIB_CAT_NOT_READY`). */
  NOT_READY: 2,
  /** Sense key MEDIUM ERROR, HARDWARE ERROR or BLANK CHECK (`SG_LIB_CAT_MEDIUM_HARD`). */
  MEDIUM_HARD: 3,
  /** Sense key ILLEGAL REQUEST other than an invalid opcode (`SG_LIB_CAT_ILLEGAL_REQ`). */
  ILLEGAL_REQ: 5,
  /** Sense key UNIT ATTENTION (`SG_LIB_CAT_UNIT_ATTENTION`). */
  UNIT_ATTENTION: 6,
  /** Sense key DATA PROTECT (`SG_LIB_CAT_DATA_PROTECT`). */
  DATA_PROTECT: 7,
  /** ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE (`SG_LIB_CAT_INVALID_OP`). */
  INVALID_OP: 9,
  /** Sense key COPY ABORTED (`SG_LIB_CAT_COPY_ABORTED`). */
  COPY_ABORTED: 10,
  /** Sense key ABORTED COMMAND, except protection errors (`SG_LIB_CAT_ABORTED_COMMAND`). */
  ABORTED_COMMAND: 11,
  /** Sense key MISCOMPARE (`SG_LIB_CAT_MISCOMPARE`). */
  MISCOMPARE: 14,
  /** A device node or other file could not be used (`SG_LIB_FILE_ERROR`). */
  FILE_ERROR: 15,
  /** ILLEGAL REQUEST with a valid INFORMATION field (`SG_LIB_CAT_ILLEGAL_REQ_WITH_INFO`). */
  ILLEGAL_REQ_WITH_INFO: 17,
  /** MEDIUM/HARDWARE ERROR with a valid INFORMATION field (`SG_LIB_CAT_MEDIUM_HARD_WITH_INFO`). */
  MEDIUM_HARD_WITH_INFO: 18,
  /** Sense key NO SENSE (`SG_LIB_CAT_NO_SENSE`). */
  NO_SENSE: 20,
  /** Sense key RECOVERED ERROR: the command succeeded (`SG_LIB_CAT_RECOVERED`). */
  RECOVERED: 21,
  /** ILLEGAL REQUEST, LBA OUT OF RANGE (`SG_LIB_LBA_OUT_OF_RANGE`). */
  LBA_OUT_OF_RANGE: 22,
  /** SCSI status RESERVATION CONFLICT (`SG_LIB_CAT_RES_CONFLICT`). */
  RES_CONFLICT: 24,
  /** SCSI status CONDITION MET (`SG_LIB_CAT_CONDITION_MET`). */
  CONDITION_MET: 25,
  /** SCSI status BUSY (`SG_LIB_CAT_BUSY`). */
  BUSY: 26,
  /** SCSI status TASK SET FULL (`SG_LIB_CAT_TS_FULL`). */
  TASK_SET_FULL: 27,
  /** SCSI status ACA ACTIVE (`SG_LIB_CAT_ACA_ACTIVE`). */
  ACA_ACTIVE: 28,
  /** SCSI status TASK ABORTED (`SG_LIB_CAT_TASK_ABORTED`). */
  TASK_ABORTED: 29,
  /** Two or more command-line options contradict each other (`SG_LIB_CONTRADICT`). */
  CONTRADICT: 31,
  /** Unexpected situation in the code (`SG_LIB_LOGIC_ERROR`). */
  LOGIC_ERROR: 32,
  /** The command timed out (`SG_LIB_CAT_TIMEOUT`). */
  TIMEOUT: 33,
  /** A transport (host) or driver error (`SG_LIB_TRANSPORT_ERROR`). */
  TRANSPORT_ERROR: 35,
  /** ABORTED COMMAND with a protection (PI/DIF) error (`SG_LIB_CAT_PROTECTION`). */
  PROTECTION: 40,
  /** Base of OS errors: the status is `50 + errno` for errno 1..46, else 50 (`SG_LIB_OS_BASE_ERR`). */
  OS_BASE_ERR: 50,
  /** The response to a SCSI command is malformed (`SG_LIB_CAT_MALFORMED`). */
  MALFORMED: 97,
  /** Some other sense data (`SG_LIB_CAT_SENSE`). */
  SENSE: 98,
  /** Some other error (`SG_LIB_CAT_OTHER`). */
  OTHER: 99,
} as const;

/** `50 + errno` for errno 1..46: sg3_utils' OS-error statuses (`SG_LIB_OS_BASE_ERR + errno`). */
export type OsErrorExitStatus =
  | 51
  | 52
  | 53
  | 54
  | 55
  | 56
  | 57
  | 58
  | 59
  | 60
  | 61
  | 62
  | 63
  | 64
  | 65
  | 66
  | 67
  | 68
  | 69
  | 70
  | 71
  | 72
  | 73
  | 74
  | 75
  | 76
  | 77
  | 78
  | 79
  | 80
  | 81
  | 82
  | 83
  | 84
  | 85
  | 86
  | 87
  | 88
  | 89
  | 90
  | 91
  | 92
  | 93
  | 94
  | 95
  | 96;

/** One of the {@link ExitStatus} values, or an OS-error status in 51..96. */
export type ExitStatusCode = (typeof ExitStatus)[keyof typeof ExitStatus] | OsErrorExitStatus;

/**
 * The exit status for an OS error, as sg3_utils' `sg_convert_errno()` computes it:
 * `50 + errno` while that stays within 51..96 (errno 1..46), else 50; 0 for errno 0.
 */
export function exitStatusForErrno(errno: number): ExitStatusCode {
  const e = Math.abs(Math.trunc(errno));
  if (e === 0) return ExitStatus.CLEAN;
  return e <= 46 ? ((ExitStatus.OS_BASE_ERR + e) as OsErrorExitStatus) : ExitStatus.OS_BASE_ERR;
}
