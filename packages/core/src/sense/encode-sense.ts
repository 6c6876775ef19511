/**
 * The sense data encoder (SPC-6 4.4): what a device server returns with CHECK CONDITION,
 * in fixed (0x70/0x71) or descriptor (0x72/0x73) format, built with the field tables of
 * {@link FIXED_SENSE_DATA} and the descriptor tables. {@link decodeSense} reads back
 * exactly what this writes (round-trip tested, and agreeing with sg3_utils' sg_decode_sense).
 * @module
 */
import { encodeTable, type FieldTable } from '../cdb/field-table.js';
import { InvalidFieldError } from '../errors/invalid-field-error.js';
import type { SenseFormat, SenseKeySpecific } from './decoded-sense.js';
import { SenseDescriptorType } from './descriptor-types.js';
import {
  BLOCK_COMMANDS_SENSE_DESCRIPTOR,
  COMMAND_SPECIFIC_SENSE_DESCRIPTOR,
  DESCRIPTOR_SENSE_HEADER,
  FIELD_REPLACEABLE_UNIT_SENSE_DESCRIPTOR,
  FIXED_SENSE_DATA,
  INFORMATION_SENSE_DESCRIPTOR,
  SENSE_KEY_SPECIFIC_SENSE_DESCRIPTOR,
  STREAM_COMMANDS_SENSE_DESCRIPTOR,
} from './sense-tables.js';

/** What sense data to build. */
export interface SenseInput {
  /** Fixed (default) or descriptor format (the Control mode page D_SENSE bit picks it, SPC-6 7.5.10). */
  readonly format?: SenseFormat;
  /** Current error (default) or deferred error (SPC-6 4.4.1.x). */
  readonly current?: boolean;
  /** SENSE KEY (0..15). */
  readonly senseKey: number;
  /** ADDITIONAL SENSE CODE. */
  readonly asc: number;
  /** ADDITIONAL SENSE CODE QUALIFIER. */
  readonly ascq: number;
  /**
   * INFORMATION (e.g. the first LBA in error, SBC-5 4.18). In fixed format a value above
   * 2^32 - 1 cannot be expressed: the VALID bit is then 0 and the field 0 (SPC-6 4.4.3).
   */
  readonly information?: bigint | number;
  /** COMMAND-SPECIFIC INFORMATION (32 bits in fixed format, 64 in descriptor format). */
  readonly commandSpecificInformation?: bigint | number;
  /** Sense-key specific bytes (SKSV set), e.g. the field pointer of INVALID FIELD IN CDB. */
  readonly senseKeySpecific?: SenseKeySpecific;
  /** FIELD REPLACEABLE UNIT CODE (0 = none). */
  readonly fieldReplaceableUnit?: number;
  /** FILEMARK (stream devices). */
  readonly filemark?: boolean;
  /** EOM (stream devices). */
  readonly endOfMedium?: boolean;
  /** ILI (incorrect length). */
  readonly incorrectLength?: boolean;
}

/** SPC-6 4.4.2.4: the 23 bits after SKSV for each kind of sense-key specific information. */
function senseKeySpecificValue(sks: SenseKeySpecific): number {
  const u16 = (v: number, field: string): number => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff)
      throw new InvalidFieldError(`senseKeySpecific.${field}`, 'must be an integer in 0..65535', v);
    return v;
  };
  const bitPointer = (bp: number | undefined): number => {
    if (bp === undefined) return 0;
    if (!Number.isInteger(bp) || bp < 0 || bp > 7)
      throw new InvalidFieldError('senseKeySpecific.bitPointer', 'must be an integer in 0..7', bp);
    return 0x08 | bp; // BPV set
  };
  switch (sks.kind) {
    case 'field-pointer':
      return (
        (((sks.inCdb ? 0x40 : 0) | bitPointer(sks.bitPointer)) << 16) | u16(sks.fieldPointer, 'fieldPointer')
      );
    case 'segment-pointer':
      return (
        (((sks.sd ? 0x20 : 0) | bitPointer(sks.bitPointer)) << 16) | u16(sks.fieldPointer, 'fieldPointer')
      );
    case 'retry-count':
      return u16(sks.actualRetryCount, 'actualRetryCount');
    case 'progress':
      return u16(sks.progress, 'progress');
    case 'unit-attention-overflow':
      return sks.overflow ? 0x01 << 16 : 0;
    case 'raw':
      if (!Number.isInteger(sks.value) || sks.value < 0 || sks.value > 0x7f_ffff)
        throw new InvalidFieldError('senseKeySpecific.value', 'must be an integer in 0..0x7fffff', sks.value);
      return sks.value;
  }
}

function checkByte(field: string, v: number, max = 0xff): void {
  if (!Number.isInteger(v) || v < 0 || v > max)
    throw new InvalidFieldError(field, `must be an integer in 0..${max}`, v);
}

function fixedSense(input: SenseInput): Uint8Array {
  const info = input.information === undefined ? undefined : BigInt(input.information);
  const infoFits = info !== undefined && info >= 0n && info <= 0xffff_ffffn;
  const sks = input.senseKeySpecific;
  return encodeTable(FIXED_SENSE_DATA, {
    valid: infoFits,
    responseCode: input.current === false ? 0x71 : 0x70,
    filemark: input.filemark === true,
    eom: input.endOfMedium === true,
    ili: input.incorrectLength === true,
    senseKey: input.senseKey,
    information: infoFits ? Number(info) : 0,
    additionalSenseLength: FIXED_SENSE_DATA.length - 8,
    commandSpecificInformation:
      input.commandSpecificInformation === undefined ? 0 : BigInt(input.commandSpecificInformation),
    asc: input.asc,
    ascq: input.ascq,
    fieldReplaceableUnitCode: input.fieldReplaceableUnit ?? 0,
    ...(sks === undefined ? {} : { sksv: 1, senseKeySpecific: senseKeySpecificValue(sks) }),
  });
}

function descriptorSense(input: SenseInput): Uint8Array {
  const parts: [FieldTable, Record<string, number | bigint | boolean>][] = [];
  const descriptor = (t: FieldTable, type: number, values: Record<string, number | bigint | boolean>) =>
    parts.push([t, { descriptorType: type, additionalLength: t.length - 2, ...values }]);
  if (input.information !== undefined) {
    descriptor(INFORMATION_SENSE_DESCRIPTOR, SenseDescriptorType.INFORMATION, {
      valid: 1,
      information: BigInt(input.information),
    });
  }
  if (input.commandSpecificInformation !== undefined) {
    descriptor(COMMAND_SPECIFIC_SENSE_DESCRIPTOR, SenseDescriptorType.COMMAND_SPECIFIC, {
      commandSpecificInformation: BigInt(input.commandSpecificInformation),
    });
  }
  if (input.senseKeySpecific !== undefined) {
    descriptor(SENSE_KEY_SPECIFIC_SENSE_DESCRIPTOR, SenseDescriptorType.SENSE_KEY_SPECIFIC, {
      sksv: 1,
      senseKeySpecific: senseKeySpecificValue(input.senseKeySpecific),
    });
  }
  if (input.fieldReplaceableUnit !== undefined && input.fieldReplaceableUnit !== 0) {
    descriptor(FIELD_REPLACEABLE_UNIT_SENSE_DESCRIPTOR, SenseDescriptorType.FIELD_REPLACEABLE_UNIT, {
      fieldReplaceableUnitCode: input.fieldReplaceableUnit,
    });
  }
  if (input.filemark === true || input.endOfMedium === true) {
    descriptor(STREAM_COMMANDS_SENSE_DESCRIPTOR, SenseDescriptorType.STREAM_COMMANDS, {
      filemark: input.filemark === true,
      eom: input.endOfMedium === true,
      ili: input.incorrectLength === true,
    });
  } else if (input.incorrectLength === true) {
    descriptor(BLOCK_COMMANDS_SENSE_DESCRIPTOR, SenseDescriptorType.BLOCK_COMMANDS, { ili: 1 });
  }
  const total = DESCRIPTOR_SENSE_HEADER.length + parts.reduce((n, [t]) => n + t.length, 0);
  const out = new Uint8Array(total);
  encodeTable(
    DESCRIPTOR_SENSE_HEADER,
    {
      responseCode: input.current === false ? 0x73 : 0x72,
      senseKey: input.senseKey,
      asc: input.asc,
      ascq: input.ascq,
      additionalSenseLength: total - 8,
    },
    out,
    0,
  );
  let off = DESCRIPTOR_SENSE_HEADER.length;
  for (const [t, values] of parts) {
    encodeTable(t, values, out, off);
    off += t.length;
  }
  return out;
}

/**
 * Builds sense data. Fixed format is 18 bytes; descriptor format is an 8-byte header plus, in
 * this order, the Information, Command-specific, Sense key specific, Field replaceable unit and
 * Stream or Block commands descriptors that the input calls for. Out-of-range values throw
 * {@link InvalidFieldError} naming the field.
 */
export function encodeSense(input: SenseInput): Uint8Array {
  checkByte('senseKey', input.senseKey, 15);
  checkByte('asc', input.asc);
  checkByte('ascq', input.ascq);
  if (input.fieldReplaceableUnit !== undefined) checkByte('fieldReplaceableUnit', input.fieldReplaceableUnit);
  return input.format === 'descriptor' ? descriptorSense(input) : fixedSense(input);
}
