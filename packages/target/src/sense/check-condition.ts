/**
 * How command handlers report CHECK CONDITION: they throw a {@link CheckCondition} carrying
 * the sense key, the additional sense code and the optional INFORMATION / sense-key specific
 * parts; the logical unit encodes it in the format the Control mode page selects.
 * @module
 */
import { type SenseInput, SenseKey, type SenseKeySpecific } from '@sgv4/core';
import { type AdditionalSense, Asc } from './additional-sense.js';

/** Optional parts of sense data. */
export interface SenseExtras {
  /** INFORMATION (first LBA in error, miscompare offset, ...). */
  readonly information?: bigint | number;
  /** COMMAND-SPECIFIC INFORMATION. */
  readonly commandSpecificInformation?: bigint | number;
  /** Sense-key specific information. */
  readonly senseKeySpecific?: SenseKeySpecific;
}

/** A command ended with CHECK CONDITION (SAM-6 5.3.1, SPC-6 4.4). Internal to the target. */
export class CheckCondition extends Error {
  /** Sense data without the format (the LU picks fixed or descriptor). */
  readonly sense: Omit<SenseInput, 'format'>;

  /** See the class description. */
  constructor(senseKey: number, code: AdditionalSense, extras: SenseExtras = {}) {
    super(`CHECK CONDITION ${senseKey.toString(16)}/${code.asc.toString(16)}/${code.ascq.toString(16)}`);
    this.sense = { senseKey, asc: code.asc, ascq: code.ascq, ...extras };
  }
}

/** ILLEGAL REQUEST, INVALID FIELD IN CDB with the field pointer to `byte` (and `bit`) (SPC-6 4.4.2.4.2). */
export function invalidFieldInCdb(byte: number, bit?: number): CheckCondition {
  return new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB, {
    senseKeySpecific: {
      kind: 'field-pointer',
      inCdb: true,
      fieldPointer: byte,
      ...(bit === undefined ? {} : { bitPointer: bit }),
    },
  });
}

/** ILLEGAL REQUEST, INVALID FIELD IN PARAMETER LIST, pointing into the parameter data. */
export function invalidFieldInParameterList(byte: number, bit?: number): CheckCondition {
  return new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_PARAMETER_LIST, {
    senseKeySpecific: {
      kind: 'field-pointer',
      inCdb: false,
      fieldPointer: byte,
      ...(bit === undefined ? {} : { bitPointer: bit }),
    },
  });
}

/** ILLEGAL REQUEST, PARAMETER LIST LENGTH ERROR, pointing at the CDB's PARAMETER LIST LENGTH field. */
export function parameterListLengthError(cdbByte: number): CheckCondition {
  return new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.PARAMETER_LIST_LENGTH_ERROR, {
    senseKeySpecific: { kind: 'field-pointer', inCdb: true, fieldPointer: cdbByte },
  });
}

/** ILLEGAL REQUEST, LOGICAL BLOCK ADDRESS OUT OF RANGE (SBC-5 4.5). */
export function lbaOutOfRange(): CheckCondition {
  return new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.LOGICAL_BLOCK_ADDRESS_OUT_OF_RANGE);
}

/** ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE, field pointer at byte 0 (or the service action, byte 1). */
export function invalidOperationCode(byte = 0): CheckCondition {
  return new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_COMMAND_OPERATION_CODE, {
    senseKeySpecific: { kind: 'field-pointer', inCdb: true, fieldPointer: byte },
  });
}
