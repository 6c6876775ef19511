/**
 * The (ASC, ASCQ) pairs the target reports, by T10 name. A unit test checks every name
 * against the core's ASC/ASCQ table (sg3_utils' transcription of T10's asc-num.txt), so a
 * typo here cannot produce a code that means something else.
 * @module
 */

/** An additional sense code and qualifier. */
export interface AdditionalSense {
  /** ADDITIONAL SENSE CODE. */
  readonly asc: number;
  /** ADDITIONAL SENSE CODE QUALIFIER. */
  readonly ascq: number;
}

const code = (asc: number, ascq: number): AdditionalSense => Object.freeze({ asc, ascq });

/** The codes, keyed by their T10 names (upper case, words joined by `_`). */
export const Asc = Object.freeze({
  NO_ADDITIONAL_SENSE_INFORMATION: code(0x00, 0x00),
  LOGICAL_UNIT_NOT_READY_CAUSE_NOT_REPORTABLE: code(0x04, 0x00),
  LOGICAL_UNIT_IS_IN_PROCESS_OF_BECOMING_READY: code(0x04, 0x01),
  LOGICAL_UNIT_NOT_READY_INITIALIZING_COMMAND_REQUIRED: code(0x04, 0x02),
  WRITE_ERROR: code(0x0c, 0x00),
  INVALID_FIELD_IN_COMMAND_INFORMATION_UNIT: code(0x0e, 0x03),
  UNRECOVERED_READ_ERROR: code(0x11, 0x00),
  PARAMETER_LIST_LENGTH_ERROR: code(0x1a, 0x00),
  MISCOMPARE_DURING_VERIFY_OPERATION: code(0x1d, 0x00),
  INVALID_COMMAND_OPERATION_CODE: code(0x20, 0x00),
  LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE: code(0x21, 0x00),
  INVALID_FIELD_IN_CDB: code(0x24, 0x00),
  LOGICAL_UNIT_NOT_SUPPORTED: code(0x25, 0x00),
  INVALID_FIELD_IN_PARAMETER_LIST: code(0x26, 0x00),
  INVALID_RELEASE_OF_PERSISTENT_RESERVATION: code(0x26, 0x04),
  WRITE_PROTECTED: code(0x27, 0x00),
  LOGICAL_UNIT_SOFTWARE_WRITE_PROTECTED: code(0x27, 0x02),
  POWER_ON_RESET_OR_BUS_DEVICE_RESET_OCCURRED: code(0x29, 0x00),
  BUS_DEVICE_RESET_FUNCTION_OCCURRED: code(0x29, 0x03),
  I_T_NEXUS_LOSS_OCCURRED: code(0x29, 0x07),
  MODE_PARAMETERS_CHANGED: code(0x2a, 0x01),
  RESERVATIONS_PREEMPTED: code(0x2a, 0x03),
  RESERVATIONS_RELEASED: code(0x2a, 0x04),
  REGISTRATIONS_PREEMPTED: code(0x2a, 0x05),
  CAPACITY_DATA_HAS_CHANGED: code(0x2a, 0x09),
  COMMANDS_CLEARED_BY_ANOTHER_INITIATOR: code(0x2f, 0x00),
  SAVING_PARAMETERS_NOT_SUPPORTED: code(0x39, 0x00),
  MEDIUM_NOT_PRESENT: code(0x3a, 0x00),
  REPORTED_LUNS_DATA_HAS_CHANGED: code(0x3f, 0x0e),
  INTERNAL_TARGET_FAILURE: code(0x44, 0x00),
  INVALID_MESSAGE_ERROR: code(0x49, 0x00),
  ACK_NAK_TIMEOUT: code(0x4b, 0x03),
  OVERLAPPED_COMMANDS_ATTEMPTED: code(0x4e, 0x00),
  MEDIUM_REMOVAL_PREVENTED: code(0x53, 0x02),
  INSUFFICIENT_REGISTRATION_RESOURCES: code(0x55, 0x04),
});

/** The T10 name of an entry of {@link Asc}, e.g. `INVALID_FIELD_IN_CDB`. */
export type AscName = keyof typeof Asc;
