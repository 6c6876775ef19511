/**
 * REPORT SUPPORTED OPERATION CODES (SPC-6 6.35), MAINTENANCE IN service action 0x0c.
 * @module
 */
import {
  buildCdb,
  type FieldValues,
  InvalidFieldError,
  parseOneCommandSupport,
  parseSupportedOperationCodes,
} from '@sgv4/core';
import type { ScsiCommand } from './command.js';

/** One supported command. */
export interface SupportedOpcode {
  /** OPERATION CODE. */
  readonly opcode: number;
  /** SERVICE ACTION, when SERVACTV is set. */
  readonly serviceAction?: number;
  /** CDB LENGTH. */
  readonly cdbLength: number;
  /** The descriptor's fields as decoded by the core. */
  readonly fields: FieldValues;
}

/** Every supported command (REPORTING OPTIONS 0). */
export function reportSupportedOpcodesCommand(allocationLength = 8192): ScsiCommand<SupportedOpcode[]> {
  if (!Number.isInteger(allocationLength) || allocationLength < 4) {
    throw new InvalidFieldError('allocationLength', 'must be an integer >= 4', allocationLength);
  }
  return {
    name: 'REPORT SUPPORTED OPERATION CODES',
    cdb: buildCdb('report-opcodes', { reportingOptions: 0, allocationLength }),
    dataInLength: allocationLength,
    parse: (data) =>
      parseSupportedOperationCodes(data).map((d) => ({
        opcode: d.operationCode as number,
        ...(d.servactv === 1 ? { serviceAction: d.serviceAction as number } : {}),
        cdbLength: d.cdbLength as number,
        fields: d,
      })),
  };
}

/** Support for one command (REPORTING OPTIONS 1, or 2 with a service action): SUPPORT field and CDB usage map. */
export function reportOneOpcodeCommand(
  opcode: number,
  serviceAction?: number,
): ScsiCommand<FieldValues & { usageData: Uint8Array }> {
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 0xff)
    throw new InvalidFieldError('opcode', 'must be 0..255', opcode);
  return {
    name: 'REPORT SUPPORTED OPERATION CODES',
    cdb: buildCdb('report-opcodes', {
      reportingOptions: serviceAction === undefined ? 1 : 2,
      requestedOperationCode: opcode,
      requestedServiceAction: serviceAction ?? 0,
      allocationLength: 512,
    }),
    dataInLength: 512,
    parse: (data) => parseOneCommandSupport(data),
  };
}
