/**
 * Defensive parsers for response data, and builders for the parameter lists some commands
 * send (MODE SELECT, UNMAP). Every parser checks lengths before reading and throws
 * {@link MalformedDataError} for short, truncated or wrong-page data.
 * @module
 */
import { InvalidFieldError } from '../errors/invalid-field-error.js';
import { MalformedDataError } from '../errors/malformed-data-error.js';
import { hexByte } from '../format/index.js';
import {
  type DecodedFields,
  decodeTable,
  decodeTableStrict,
  encodeTable,
  type FieldInput,
  type FieldTable,
  type FieldValues,
  type PartialDecodedFields,
} from './field-table.js';
import {
  BLOCK_DEVICE_CHARACTERISTICS_VPD,
  BLOCK_LIMITS_VPD,
  CACHING_MODE_PAGE,
  COMMAND_DESCRIPTOR,
  CONTROL_MODE_PAGE,
  DESIGNATION_DESCRIPTOR,
  INFORMATIONAL_EXCEPTIONS_CONTROL_MODE_PAGE,
  LOGICAL_BLOCK_PROVISIONING_VPD,
  LONG_BLOCK_DESCRIPTOR,
  MODE_HEADER6,
  MODE_HEADER10,
  ONE_COMMAND_HEADER,
  READ_CAPACITY10_DATA,
  READ_CAPACITY16_DATA,
  READ_WRITE_ERROR_RECOVERY_MODE_PAGE,
  SHORT_BLOCK_DESCRIPTOR,
  STANDARD_INQUIRY,
  UNMAP_BLOCK_DESCRIPTOR,
  VPD_HEADER,
} from './response-tables.js';

/** Standard INQUIRY data, typed by {@link STANDARD_INQUIRY}'s fields. */
export interface StandardInquiryData extends DecodedFields<typeof STANDARD_INQUIRY> {}
/** The 4-byte header of a VPD page. */
export interface VpdPageHeader extends DecodedFields<typeof VPD_HEADER> {}
/** The header of one designation descriptor (VPD page 0x83). */
export interface DesignationDescriptorHeader extends DecodedFields<typeof DESIGNATION_DESCRIPTOR> {}
/** Block Limits VPD page fields (a field beyond an older device's page length is absent). */
export type BlockLimitsVpd = PartialDecodedFields<typeof BLOCK_LIMITS_VPD>;
/** Block Device Characteristics VPD page fields. */
export type BlockDeviceCharacteristicsVpd = PartialDecodedFields<typeof BLOCK_DEVICE_CHARACTERISTICS_VPD>;
/** Logical Block Provisioning VPD page fields. */
export type LogicalBlockProvisioningVpd = PartialDecodedFields<typeof LOGICAL_BLOCK_PROVISIONING_VPD>;
/** READ CAPACITY(10) data plus `capacityBytes`. */
export type ReadCapacity10Data = DecodedFields<typeof READ_CAPACITY10_DATA> & {
  readonly capacityBytes: bigint;
};
/** READ CAPACITY(16) data: RETURNED LOGICAL BLOCK ADDRESS and LOGICAL BLOCK LENGTH always, the rest when returned. */
export type ReadCapacity16Data = PartialDecodedFields<typeof READ_CAPACITY16_DATA> &
  Pick<DecodedFields<typeof READ_CAPACITY16_DATA>, 'returnedLba' | 'blockLength'> & {
    readonly capacityBytes: bigint;
  };
/** A mode parameter header, (6) or (10). */
export type ModeParameterHeader = DecodedFields<typeof MODE_HEADER6> | DecodedFields<typeof MODE_HEADER10>;
/** A block descriptor, short or long. */
export type BlockDescriptor =
  | DecodedFields<typeof SHORT_BLOCK_DESCRIPTOR>
  | DecodedFields<typeof LONG_BLOCK_DESCRIPTOR>;
/** One command descriptor of REPORT SUPPORTED OPERATION CODES (all-commands format). */
export interface CommandDescriptor extends DecodedFields<typeof COMMAND_DESCRIPTOR> {}
/** REPORT SUPPORTED OPERATION CODES one-command data plus the CDB usage data. */
export type OneCommandSupport = DecodedFields<typeof ONE_COMMAND_HEADER> & { readonly usageData: Uint8Array };

/** Standard INQUIRY data (36 bytes required). */
export function parseStandardInquiry(bytes: Uint8Array): StandardInquiryData {
  return decodeTableStrict(STANDARD_INQUIRY, bytes);
}

/** One designation descriptor of VPD page 0x83. */
export interface Designator {
  /** Header fields (codeSet, association, designatorType, ...). */
  readonly fields: DesignationDescriptorHeader;
  /** The DESIGNATOR bytes. */
  readonly designator: Uint8Array;
}

/** A parsed VPD page. */
export type VpdPage =
  | { readonly pageCode: 0x00; readonly header: VpdPageHeader; readonly supportedPages: readonly number[] }
  | { readonly pageCode: 0x80; readonly header: VpdPageHeader; readonly serialNumber: string }
  | { readonly pageCode: 0x83; readonly header: VpdPageHeader; readonly designators: readonly Designator[] }
  | { readonly pageCode: 0xb0; readonly header: VpdPageHeader; readonly fields: BlockLimitsVpd }
  | {
      readonly pageCode: 0xb1;
      readonly header: VpdPageHeader;
      readonly fields: BlockDeviceCharacteristicsVpd;
    }
  | { readonly pageCode: 0xb2; readonly header: VpdPageHeader; readonly fields: LogicalBlockProvisioningVpd };

/** VPD pages with a parser. */
export const SUPPORTED_VPD_PAGES: readonly number[] = [0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2];

/**
 * Parses a VPD page, checking that it IS page `expectedPage` (a device that ignores EVPD
 * returns standard INQUIRY data instead: sg3_utils issue #34) and that PAGE LENGTH fits in
 * the bytes given. Fields of 0xb0..0xb2 beyond the page length (older SBC versions define
 * shorter pages) are omitted.
 */
export function parseVpdPage(expectedPage: number, bytes: Uint8Array): VpdPage {
  const what = `VPD page ${hexByte(expectedPage)}`;
  if (!SUPPORTED_VPD_PAGES.includes(expectedPage)) {
    throw new InvalidFieldError('pageCode', `must be one of ${SUPPORTED_VPD_PAGES.join(', ')}`, expectedPage);
  }
  const header = decodeTableStrict(VPD_HEADER, bytes, 0, what);
  if (header.pageCode !== expectedPage) {
    throw new MalformedDataError({
      what,
      offset: 1,
      needed: expectedPage,
      available: header.pageCode,
      reason: `page code is ${hexByte(header.pageCode)}, expected ${hexByte(expectedPage)} (a standard INQUIRY response?)`,
    });
  }
  const pageLength = header.pageLength;
  MalformedDataError.require(what, bytes, 4, pageLength);
  const body = bytes.subarray(0, 4 + pageLength);
  switch (expectedPage) {
    case 0x00:
      return { pageCode: 0x00, header, supportedPages: Array.from(body.subarray(4)) };
    case 0x80:
      return {
        pageCode: 0x80,
        header,
        serialNumber: String.fromCharCode(...body.subarray(4))
          .replace(/[\0 ]+$/, '')
          .replace(/^ +/, ''),
      };
    case 0x83: {
      const designators: Designator[] = [];
      for (let off = 4; off < body.length; ) {
        const fields = decodeTableStrict(DESIGNATION_DESCRIPTOR, body, off, `${what} designation descriptor`);
        const len = fields.designatorLength;
        MalformedDataError.require(`${what} designator`, body, off + 4, len);
        designators.push({ fields, designator: body.slice(off + 4, off + 4 + len) });
        off += 4 + len;
      }
      return { pageCode: 0x83, header, designators };
    }
    case 0xb0:
      return { pageCode: 0xb0, header, fields: decodeTable(BLOCK_LIMITS_VPD, body, 0, body.length) };
    case 0xb1:
      return {
        pageCode: 0xb1,
        header,
        fields: decodeTable(BLOCK_DEVICE_CHARACTERISTICS_VPD, body, 0, body.length),
      };
    default:
      return {
        pageCode: 0xb2,
        header,
        fields: decodeTable(LOGICAL_BLOCK_PROVISIONING_VPD, body, 0, body.length),
      };
  }
}

/** READ CAPACITY(10) data; `capacityBytes` = (returnedLba + 1) * blockLength. */
export function parseReadCapacity10(bytes: Uint8Array): ReadCapacity10Data {
  const f = decodeTableStrict(READ_CAPACITY10_DATA, bytes);
  return { ...f, capacityBytes: (BigInt(f.returnedLba) + 1n) * BigInt(f.blockLength) };
}

/** READ CAPACITY(16) data: the first 12 bytes are required, the rest decoded when present. */
export function parseReadCapacity16(bytes: Uint8Array): ReadCapacity16Data {
  MalformedDataError.require(READ_CAPACITY16_DATA.name, bytes, 0, 12);
  const f = decodeTable(READ_CAPACITY16_DATA, bytes, 0, Math.min(bytes.length, 32));
  // The 12 bytes required above hold both fields.
  const returnedLba = f.returnedLba as bigint;
  const blockLength = f.blockLength as number;
  return { ...f, returnedLba, blockLength, capacityBytes: (returnedLba + 1n) * BigInt(blockLength) };
}

/** A mode page as returned by MODE SENSE. */
export interface ModePage {
  /** PAGE CODE. */
  readonly pageCode: number;
  /** SUBPAGE CODE (0 for page_0 format). */
  readonly subpageCode: number;
  /** The page bytes, header included. */
  readonly bytes: Uint8Array;
  /** Decoded fields for the Read-Write Error Recovery (0x01), Caching (0x08), Control (0x0a) and Informational Exceptions Control (0x1c) pages. */
  readonly fields?: FieldValues;
}

/** MODE SENSE parameter data. */
export interface ModeParameters {
  /** Header fields. */
  readonly header: ModeParameterHeader;
  /** Block descriptors (short or long). */
  readonly blockDescriptors: readonly BlockDescriptor[];
  /** Mode pages in order. */
  readonly pages: readonly ModePage[];
}

const PAGE_TABLES: Readonly<Record<number, FieldTable>> = {
  1: READ_WRITE_ERROR_RECOVERY_MODE_PAGE,
  8: CACHING_MODE_PAGE,
  10: CONTROL_MODE_PAGE,
  28: INFORMATIONAL_EXCEPTIONS_CONTROL_MODE_PAGE,
};

/**
 * Parses MODE SENSE(6) or (10) data: header, block descriptors, pages. MODE DATA LENGTH
 * bounds the data (data beyond the bytes given means the allocation length was too small:
 * only complete pages within the bytes are returned; a truncated header or descriptor
 * list is a MalformedDataError).
 */
export function parseModeParameters(variant: 6 | 10, bytes: Uint8Array): ModeParameters {
  const headerTable = variant === 6 ? MODE_HEADER6 : MODE_HEADER10;
  const header = decodeTableStrict(headerTable, bytes);
  const total = Math.min(bytes.length, header.modeDataLength + (variant === 6 ? 1 : 2));
  const bdLen = header.blockDescriptorLength;
  const long = 'longLba' in header && header.longLba === 1;
  const bdTable = long ? LONG_BLOCK_DESCRIPTOR : SHORT_BLOCK_DESCRIPTOR;
  MalformedDataError.require(`MODE SENSE(${variant}) block descriptors`, bytes, headerTable.length, bdLen);
  const blockDescriptors: BlockDescriptor[] = [];
  for (
    let off = headerTable.length;
    off + bdTable.length <= headerTable.length + bdLen;
    off += bdTable.length
  ) {
    blockDescriptors.push(
      long
        ? decodeTableStrict(LONG_BLOCK_DESCRIPTOR, bytes, off)
        : decodeTableStrict(SHORT_BLOCK_DESCRIPTOR, bytes, off),
    );
  }
  const pages: ModePage[] = [];
  for (let off = headerTable.length + bdLen; off + 2 <= total; ) {
    const b0 = bytes[off] ?? 0;
    const spf = (b0 & 0x40) !== 0;
    if (spf && off + 4 > total) break;
    const len = spf ? 4 + (((bytes[off + 2] ?? 0) << 8) | (bytes[off + 3] ?? 0)) : 2 + (bytes[off + 1] ?? 0);
    if (off + len > total) break;
    const page = bytes.slice(off, off + len);
    const pageCode = b0 & 0x3f;
    const t = spf ? undefined : PAGE_TABLES[pageCode];
    pages.push({
      pageCode,
      subpageCode: spf ? (bytes[off + 1] ?? 0) : 0,
      bytes: page,
      ...(t !== undefined ? { fields: decodeTable(t, page, 0, page.length) } : {}),
    });
    off += len;
  }
  return { header, blockDescriptors, pages };
}

/** Field values of the Caching and/or Control page for MODE SELECT. */
export interface ModeSelectPages {
  /** Caching mode page fields (pageCode/pageLength are filled in). */
  readonly caching?: FieldInput;
  /** Control mode page fields. */
  readonly control?: FieldInput;
}

/**
 * Builds a MODE SELECT(6)/(10) parameter list: a header with MODE DATA LENGTH 0 (reserved
 * for MODE SELECT, SPC-6 7.5.6), no block descriptors, then the pages. PS is cleared as
 * MODE SELECT requires.
 */
export function buildModeSelectParameterList(variant: 6 | 10, pages: ModeSelectPages): Uint8Array {
  const headerLength = variant === 6 ? 4 : 8;
  const parts: Uint8Array[] = [new Uint8Array(headerLength)];
  if (pages.caching) {
    parts.push(
      encodeTable(CACHING_MODE_PAGE, { ...pages.caching, ps: 0, spf: 0, pageCode: 0x08, pageLength: 0x12 }),
    );
  }
  if (pages.control) {
    parts.push(
      encodeTable(CONTROL_MODE_PAGE, { ...pages.control, ps: 0, spf: 0, pageCode: 0x0a, pageLength: 0x0a }),
    );
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** One LUN of a REPORT LUNS response. */
export interface ReportedLun {
  /** The 8-byte LUN as a big-endian bigint. */
  readonly lun: bigint;
  /**
   * The Linux LUN number, as the kernel's `scsilun_to_int()` (drivers/scsi/scsi_common.c)
   * computes it: each 2-byte level, first level in the low 16 bits (0x4001... flat space -> 0x4001).
   */
  readonly linuxLun: bigint;
}

/** REPORT LUNS parameter data (SPC-6 6.33): LUN LIST LENGTH then 8-byte LUNs. Lists only complete entries present. */
export function parseReportLuns(bytes: Uint8Array): { lunListLength: number; luns: ReportedLun[] } {
  MalformedDataError.require('REPORT LUNS data', bytes, 0, 8);
  const lunListLength =
    ((bytes[0] ?? 0) * 2 ** 24 + ((bytes[1] ?? 0) << 16)) | ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0);
  const end = Math.min(bytes.length, 8 + lunListLength);
  const luns: ReportedLun[] = [];
  for (let off = 8; off + 8 <= end; off += 8) {
    let lun = 0n;
    let linuxLun = 0n;
    for (let i = 0; i < 8; i++) lun = (lun << 8n) | BigInt(bytes[off + i] ?? 0);
    for (let i = 0; i < 8; i += 2) {
      const level = BigInt(((bytes[off + i] ?? 0) << 8) | (bytes[off + i + 1] ?? 0));
      linuxLun |= level << BigInt(i * 8);
    }
    luns.push({ lun, linuxLun });
  }
  return { lunListLength, luns };
}

/** REPORT SUPPORTED OPERATION CODES data, all-commands format (REPORTING OPTIONS 0). */
export function parseSupportedOperationCodes(bytes: Uint8Array): CommandDescriptor[] {
  MalformedDataError.require('REPORT SUPPORTED OPERATION CODES data', bytes, 0, 4);
  const length =
    ((bytes[0] ?? 0) * 2 ** 24 + ((bytes[1] ?? 0) << 16)) | ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0);
  const end = Math.min(bytes.length, 4 + length);
  const out: CommandDescriptor[] = [];
  for (let off = 4; off + 8 <= end; ) {
    const d = decodeTableStrict(COMMAND_DESCRIPTOR, bytes, off);
    out.push(d);
    off += 8 + (d.ctdp === 1 ? 12 : 0);
  }
  return out;
}

/** REPORT SUPPORTED OPERATION CODES data, one-command format (REPORTING OPTIONS 1..3). */
export function parseOneCommandSupport(bytes: Uint8Array): OneCommandSupport {
  const f = decodeTableStrict(ONE_COMMAND_HEADER, bytes);
  const size = f.cdbSize;
  MalformedDataError.require('one-command CDB usage data', bytes, 4, size);
  return { ...f, usageData: bytes.slice(4, 4 + size) };
}

/** One range for UNMAP. */
export interface UnmapRange {
  /** First LBA. */
  readonly lba: bigint | number;
  /** Number of blocks. */
  readonly numberOfBlocks: number;
}

/** Builds an UNMAP parameter list (SBC-5 5.32.2): 8-byte header then one 16-byte descriptor per range. */
export function buildUnmapParameterList(ranges: readonly UnmapRange[]): Uint8Array {
  const n = ranges.length;
  if (n > 4095)
    throw new InvalidFieldError('ranges', 'must have at most 4095 entries (16-bit data length)', n);
  const out = new Uint8Array(8 + 16 * n);
  const dataLength = 6 + 16 * n;
  out[0] = dataLength >> 8;
  out[1] = dataLength & 0xff;
  out[2] = (16 * n) >> 8;
  out[3] = (16 * n) & 0xff;
  ranges.forEach((r, i) => {
    encodeTable(UNMAP_BLOCK_DESCRIPTOR, { lba: r.lba, numberOfBlocks: r.numberOfBlocks }, out, 8 + 16 * i);
  });
  return out;
}
