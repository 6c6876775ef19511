/**
 * Additional Header Segments (RFC 7143 §11.2.2): a 2-byte AHSLength (the AHS-specific bytes,
 * excluding the length and type fields and any padding), a 1-byte AHSType, the AHS-specific
 * bytes, padded to a multiple of 4. TotalAHSLength in byte 4 of the BHS counts 4-byte words,
 * padding included, so at most 1020 bytes of AHS follow a BHS.
 * @module
 */
import { InvalidFieldError, MalformedDataError } from '@sgv4/core';

/** AHS types (RFC 7143 §11.2.2.2). */
export const AhsType = {
  /** The bytes of a CDB beyond the 16 the BHS holds (§11.2.2.3). */
  EXTENDED_CDB: 1,
  /** Expected read length of a bidirectional command (§11.2.2.4). */
  BIDIRECTIONAL_READ_LENGTH: 2,
} as const;

/** One AHS, undecoded: its type and AHS-specific bytes (without padding). */
export interface AdditionalHeader {
  /** AHSType (6 bits of type; the upper 2 bits are the "category" bits, 0 for defined types). */
  readonly type: number;
  /** The AHS-specific bytes (AHSLength of them). */
  readonly specific: Uint8Array;
}

/** Largest AHS area: TotalAHSLength is one byte of 4-byte words. */
export const MAX_TOTAL_AHS_LENGTH = 255 * 4;

/** Encodes AHSs back to back, each padded to 4 bytes. InvalidFieldError when they exceed 1020 bytes. */
export function encodeAhs(headers: readonly AdditionalHeader[]): Uint8Array {
  const total = headers.reduce((n, h) => n + ((3 + h.specific.length + 3) & ~3), 0);
  if (total > MAX_TOTAL_AHS_LENGTH) {
    throw new InvalidFieldError(
      'ahs',
      `must total at most ${MAX_TOTAL_AHS_LENGTH} bytes (TotalAHSLength is one byte of words)`,
      total,
    );
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const h of headers) {
    if (!Number.isInteger(h.type) || h.type < 0 || h.type > 255) {
      throw new InvalidFieldError('ahs.type', 'must be an integer in 0..255', h.type);
    }
    out[at] = h.specific.length >>> 8;
    out[at + 1] = h.specific.length & 0xff;
    out[at + 2] = h.type;
    out.set(h.specific, at + 3);
    at += (3 + h.specific.length + 3) & ~3;
  }
  return out;
}

/** Decodes an AHS area; MalformedDataError when an AHSLength runs past the area's end. */
export function decodeAhs(area: Uint8Array): AdditionalHeader[] {
  const out: AdditionalHeader[] = [];
  let at = 0;
  while (at < area.length) {
    MalformedDataError.require('AHS header', area, at, 3);
    const length = (area[at]! << 8) | area[at + 1]!;
    const type = area[at + 2]!;
    MalformedDataError.require(`AHS type ${type}`, area, at + 3, length);
    out.push({ type, specific: area.slice(at + 3, at + 3 + length) });
    at += (3 + length + 3) & ~3;
  }
  return out;
}

/**
 * The Extended CDB AHS for a CDB longer than 16 bytes (§11.2.2.3): AHSLength = CDB length - 15
 * (a reserved byte plus the bytes beyond 16); undefined for CDBs that fit the BHS.
 */
export function extendedCdbAhs(cdb: Uint8Array): AdditionalHeader | undefined {
  if (cdb.length <= 16) return undefined;
  const specific = new Uint8Array(cdb.length - 15);
  specific.set(cdb.subarray(16), 1);
  return { type: AhsType.EXTENDED_CDB, specific };
}

/** The Bidirectional Read Expected Data Transfer Length AHS (§11.2.2.4): AHSLength 5, reserved byte, 4-byte length. */
export function bidirectionalReadLengthAhs(length: number): AdditionalHeader {
  const specific = new Uint8Array(5);
  new DataView(specific.buffer).setUint32(1, length);
  return { type: AhsType.BIDIRECTIONAL_READ_LENGTH, specific };
}

/** The full CDB of a SCSI Command: the BHS's 16 bytes plus any Extended CDB AHS. */
export function fullCdb(bhsCdb: Uint8Array, ahs: readonly AdditionalHeader[]): Uint8Array {
  const ext = ahs.find((h) => h.type === AhsType.EXTENDED_CDB);
  if (ext === undefined || ext.specific.length < 1) return bhsCdb;
  const out = new Uint8Array(16 + ext.specific.length - 1);
  out.set(bhsCdb.subarray(0, 16));
  out.set(ext.specific.subarray(1), 16);
  return out;
}

/** The bidirectional read length a SCSI Command carries, if any. */
export function bidirectionalReadLength(ahs: readonly AdditionalHeader[]): number | undefined {
  const h = ahs.find((x) => x.type === AhsType.BIDIRECTIONAL_READ_LENGTH);
  if (h === undefined) return undefined;
  MalformedDataError.require('Bidirectional Read Expected Data Transfer Length AHS', h.specific, 0, 5);
  return new DataView(h.specific.buffer, h.specific.byteOffset, h.specific.length).getUint32(1);
}
