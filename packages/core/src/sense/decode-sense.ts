/**
 * The sense data decoder (SPC-6 4.4): fixed (0x70/0x71) and descriptor (0x72/0x73) formats.
 *
 * Truncation is normal for sense data (the kernel copies at most `max_response_len`
 * bytes, sg 6.1 caps at 96), so, like sg3_utils' `sg_scsi_normalize_sense()`, a field that
 * lies beyond the bytes given reads as absent and a trailing partial descriptor is skipped.
 * Data that is not sense data at all (empty, or a response code other than 0x70..0x73)
 * is a {@link MalformedDataError}. No read ever goes past the buffer.
 * @module
 */
import { MalformedDataError } from '../errors/malformed-data-error.js';
import { hexByte } from '../format/index.js';
import { ascAscqText } from './asc-ascq.js';
import type { DecodedSense, SenseDescriptor, SenseKeySpecific } from './decoded-sense.js';
import { SenseDescriptorType, senseDescriptorTypeName } from './descriptor-types.js';
import { SenseKey, senseKeyName } from './sense-keys.js';

/** A writable view of a readonly interface, for building one in place. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function be(bytes: Uint8Array, offset: number, length: number): bigint {
  let v = 0n;
  for (let i = 0; i < length; i++) v = (v << 8n) | BigInt(bytes[offset + i] ?? 0);
  return v;
}

/** SPC-6 4.4.2.4: the three sense-key specific bytes, interpreted by sense key. */
function senseKeySpecific(senseKey: number, b0: number, b1: number, b2: number): SenseKeySpecific {
  const value16 = (b1 << 8) | b2;
  switch (senseKey) {
    case SenseKey.ILLEGAL_REQUEST:
      return {
        kind: 'field-pointer',
        inCdb: (b0 & 0x40) !== 0,
        ...((b0 & 0x08) !== 0 ? { bitPointer: b0 & 0x07 } : {}),
        fieldPointer: value16,
      };
    case SenseKey.RECOVERED_ERROR:
    case SenseKey.HARDWARE_ERROR:
    case SenseKey.MEDIUM_ERROR:
      return { kind: 'retry-count', actualRetryCount: value16 };
    case SenseKey.NO_SENSE:
    case SenseKey.NOT_READY:
      return { kind: 'progress', progress: value16, percent: Math.round((value16 * 10000) / 65536) / 100 };
    case SenseKey.COPY_ABORTED:
      return {
        kind: 'segment-pointer',
        sd: (b0 & 0x20) !== 0,
        ...((b0 & 0x08) !== 0 ? { bitPointer: b0 & 0x07 } : {}),
        fieldPointer: value16,
      };
    case SenseKey.UNIT_ATTENTION:
      return { kind: 'unit-attention-overflow', overflow: (b0 & 0x01) !== 0 };
    default:
      return { kind: 'raw', value: ((b0 & 0x7f) << 16) | value16 };
  }
}

/** Fields of the descriptor types with a fixed layout (SPC-6 4.4.2.x, SAT-5 for ATA). */
function descriptorFields(d: Uint8Array): Record<string, number | bigint | boolean> {
  const type = d[0];
  const len = d.length;
  switch (type) {
    case SenseDescriptorType.INFORMATION:
      return len >= 12 ? { valid: ((d[2] ?? 0) & 0x80) !== 0, information: be(d, 4, 8) } : {};
    case SenseDescriptorType.COMMAND_SPECIFIC:
      return len >= 12 ? { commandSpecificInformation: be(d, 4, 8) } : {};
    case SenseDescriptorType.SENSE_KEY_SPECIFIC:
      return len >= 7 ? { sksv: ((d[4] ?? 0) & 0x80) !== 0, value: Number(be(d, 4, 3)) & 0x7fffff } : {};
    case SenseDescriptorType.FIELD_REPLACEABLE_UNIT:
      return len >= 4 ? { fieldReplaceableUnit: d[3] ?? 0 } : {};
    case SenseDescriptorType.STREAM_COMMANDS:
      return len >= 4
        ? {
            filemark: ((d[3] ?? 0) & 0x80) !== 0,
            endOfMedium: ((d[3] ?? 0) & 0x40) !== 0,
            incorrectLength: ((d[3] ?? 0) & 0x20) !== 0,
          }
        : {};
    case SenseDescriptorType.BLOCK_COMMANDS:
      return len >= 4 ? { incorrectLength: ((d[3] ?? 0) & 0x20) !== 0 } : {};
    case SenseDescriptorType.ATA_STATUS_RETURN:
      return len >= 14
        ? {
            extend: ((d[2] ?? 0) & 0x01) !== 0,
            error: d[3] ?? 0,
            count: ((d[4] ?? 0) << 8) | (d[5] ?? 0),
            lba: (be(d, 10, 2) << 32n) | (be(d, 8, 2) << 16n) | be(d, 6, 2),
            device: d[12] ?? 0,
            status: d[13] ?? 0,
          }
        : {};
    case SenseDescriptorType.ANOTHER_PROGRESS_INDICATION:
      return len >= 8
        ? {
            senseKey: (d[2] ?? 0) & 0x0f,
            asc: d[3] ?? 0,
            ascq: d[4] ?? 0,
            progress: ((d[6] ?? 0) << 8) | (d[7] ?? 0),
          }
        : {};
    default:
      return {};
  }
}

/**
 * Decodes sense data. Throws {@link MalformedDataError} for an empty buffer or a response
 * code that is not 0x70..0x73 (the vendor-specific 0x7f format is not decoded).
 */
export function decodeSense(bytes: Uint8Array): DecodedSense {
  const what = 'sense data';
  if (bytes.length === 0) throw new MalformedDataError({ what, offset: 0, needed: 1, available: 0 });
  const responseCode = (bytes[0] ?? 0) & 0x7f;
  if (responseCode < 0x70 || responseCode > 0x73) {
    throw new MalformedDataError({
      what,
      offset: 0,
      needed: 0x70,
      available: responseCode,
      reason: `response code ${hexByte(responseCode)} is not a sense data format (0x70..0x73)`,
    });
  }
  // ADDITIONAL SENSE LENGTH (byte 7) bounds the data, when present (sg_scsi_normalize_sense).
  const len = bytes.length > 7 ? Math.min(bytes.length, 8 + (bytes[7] ?? 0)) : bytes.length;
  const at = (i: number): number => (i < len ? (bytes[i] ?? 0) : 0);
  const fixed = responseCode <= 0x71;
  const current = responseCode === 0x70 || responseCode === 0x72;

  if (fixed) {
    const senseKey = at(2) & 0x0f;
    const asc = at(12);
    const ascq = at(13);
    const b2 = at(2);
    // Built as one object, optional fields assigned only when present (no spreads: this is a hot path).
    const out: Mutable<DecodedSense> = {
      format: 'fixed',
      responseCode,
      current,
      senseKey,
      senseKeyName: senseKeyName(senseKey),
      asc,
      ascq,
      ascText: ascAscqText(asc, ascq),
      filemark: (b2 & 0x80) !== 0,
      endOfMedium: (b2 & 0x40) !== 0,
      incorrectLength: (b2 & 0x20) !== 0,
      overflow: (b2 & 0x10) !== 0,
      descriptors: [],
      length: len,
    };
    if (len > 6 && (at(0) & 0x80) !== 0) out.information = be(bytes, 3, 4);
    const cmdSpecific = len > 11 ? be(bytes, 8, 4) : 0n;
    if (cmdSpecific !== 0n) out.commandSpecificInformation = cmdSpecific;
    if (at(14) !== 0) out.fieldReplaceableUnit = at(14);
    if (len > 17 && (at(15) & 0x80) !== 0)
      out.senseKeySpecific = senseKeySpecific(senseKey, at(15), at(16), at(17));
    return out;
  }

  const senseKey = at(1) & 0x0f;
  const asc = at(2);
  const ascq = at(3);
  const descriptors: SenseDescriptor[] = [];
  let information: bigint | undefined;
  let commandSpecificInformation: bigint | undefined;
  let fieldReplaceableUnit: number | undefined;
  let sks: SenseKeySpecific | undefined;
  let filemark = false;
  let endOfMedium = false;
  let incorrectLength = false;
  for (let off = 8; off + 2 <= len; ) {
    const dlen = 2 + (bytes[off + 1] ?? 0);
    if (off + dlen > len) break; // truncated trailing descriptor: skipped
    const d = bytes.subarray(off, off + dlen);
    const type = d[0] ?? 0;
    const fields = descriptorFields(d);
    descriptors.push({ type, typeName: senseDescriptorTypeName(type), bytes: d, fields });
    if (type === SenseDescriptorType.INFORMATION && fields.valid === true) {
      information = fields.information as bigint;
    } else if (type === SenseDescriptorType.COMMAND_SPECIFIC && 'commandSpecificInformation' in fields) {
      commandSpecificInformation = fields.commandSpecificInformation as bigint;
    } else if (type === SenseDescriptorType.FIELD_REPLACEABLE_UNIT && 'fieldReplaceableUnit' in fields) {
      fieldReplaceableUnit = fields.fieldReplaceableUnit as number;
    } else if (type === SenseDescriptorType.SENSE_KEY_SPECIFIC && fields.sksv === true) {
      sks = senseKeySpecific(senseKey, d[4] ?? 0, d[5] ?? 0, d[6] ?? 0);
    } else if (type === SenseDescriptorType.STREAM_COMMANDS && 'filemark' in fields) {
      filemark = fields.filemark === true;
      endOfMedium = fields.endOfMedium === true;
      incorrectLength = fields.incorrectLength === true;
    } else if (type === SenseDescriptorType.BLOCK_COMMANDS && fields.incorrectLength === true) {
      incorrectLength = true;
    }
    off += dlen;
  }
  return {
    format: 'descriptor',
    responseCode,
    current,
    senseKey,
    senseKeyName: senseKeyName(senseKey),
    asc,
    ascq,
    ascText: ascAscqText(asc, ascq),
    ...(information !== undefined ? { information } : {}),
    ...(commandSpecificInformation !== undefined && commandSpecificInformation !== 0n
      ? { commandSpecificInformation }
      : {}),
    ...(fieldReplaceableUnit !== undefined && fieldReplaceableUnit !== 0 ? { fieldReplaceableUnit } : {}),
    ...(sks !== undefined ? { senseKeySpecific: sks } : {}),
    filemark,
    endOfMedium,
    incorrectLength,
    overflow: (at(4) & 0x80) !== 0,
    descriptors,
    length: len,
  };
}
