/**
 * INQUIRY (SPC-6 6.7): standard data and the VPD pages the core parses, with typed results.
 * @module
 */
import {
  buildCdb,
  type Designator,
  type FieldValues,
  hexByte,
  InvalidFieldError,
  MalformedDataError,
  parseStandardInquiry,
  parseVpdPage,
  SUPPORTED_VPD_PAGES,
  type VpdPage,
} from '@sgv4/core';
import type { ScsiCommand } from './command.js';
import { peripheralTypeName } from './peripheral-types.js';

/** Standard INQUIRY data (SPC-6 6.7.2), typed. */
export interface StandardInquiry {
  /** PERIPHERAL QUALIFIER (0 = connected). */
  readonly peripheralQualifier: number;
  /** PERIPHERAL DEVICE TYPE (0 = disk). */
  readonly peripheralType: number;
  /** Its name as sg3_utils prints it (`disk`). */
  readonly peripheralTypeName: string;
  /** RMB: removable medium. */
  readonly removable: boolean;
  /** VERSION (7 = SPC-5, 8 = SPC-6...). */
  readonly version: number;
  /** RESPONSE DATA FORMAT (2). */
  readonly responseDataFormat: number;
  /** NORMACA. */
  readonly normaca: boolean;
  /** HISUP: hierarchical LUNs. */
  readonly hisup: boolean;
  /** SCCS: embedded storage array controller. */
  readonly sccs: boolean;
  /** ACC: access controls coordinator. */
  readonly acc: boolean;
  /** TPGS: target port group support (0..3). */
  readonly tpgs: number;
  /** 3PC: third-party copy. */
  readonly thirdPartyCopy: boolean;
  /** PROTECT: protection information. */
  readonly protect: boolean;
  /** ENCSERV: embedded enclosure services. */
  readonly encserv: boolean;
  /** MULTIP: multiple ports. */
  readonly multip: boolean;
  /** CMDQUE: command queueing (tagged tasks). */
  readonly cmdque: boolean;
  /** T10 VENDOR IDENTIFICATION, trailing spaces trimmed. */
  readonly vendor: string;
  /** PRODUCT IDENTIFICATION. */
  readonly product: string;
  /** PRODUCT REVISION LEVEL. */
  readonly revision: string;
  /** The bytes received. */
  readonly raw: Uint8Array;
}

const bool = (f: FieldValues, name: string): boolean => f[name] === 1;
const num = (f: FieldValues, name: string): number => (f[name] as number | undefined) ?? 0;

/** Types the core's decoded standard INQUIRY fields. */
export function toStandardInquiry(bytes: Uint8Array): StandardInquiry {
  const f = parseStandardInquiry(bytes);
  const type = num(f, 'peripheralDeviceType');
  return {
    peripheralQualifier: num(f, 'peripheralQualifier'),
    peripheralType: type,
    peripheralTypeName: peripheralTypeName(type),
    removable: bool(f, 'rmb'),
    version: num(f, 'version'),
    responseDataFormat: num(f, 'responseDataFormat'),
    normaca: bool(f, 'normaca'),
    hisup: bool(f, 'hisup'),
    sccs: bool(f, 'sccs'),
    acc: bool(f, 'acc'),
    tpgs: num(f, 'tpgs'),
    thirdPartyCopy: bool(f, 'thirdPartyCopy'),
    protect: bool(f, 'protect'),
    encserv: bool(f, 'encserv'),
    multip: bool(f, 'multip'),
    cmdque: bool(f, 'cmdque'),
    vendor: String(f.vendor ?? ''),
    product: String(f.product ?? ''),
    revision: String(f.revision ?? ''),
    raw: bytes,
  };
}

/** Standard INQUIRY. `allocationLength` default 96 (enough for every field SPC defines up to byte 95). */
export function inquiryCommand(allocationLength = 96): ScsiCommand<StandardInquiry> {
  if (!Number.isInteger(allocationLength) || allocationLength < 36 || allocationLength > 0xffff) {
    throw new InvalidFieldError(
      'allocationLength',
      'must be an integer in 36..65535 (standard INQUIRY data is at least 36 bytes)',
      allocationLength,
    );
  }
  return {
    name: 'INQUIRY',
    cdb: buildCdb('inquiry', { allocationLength }),
    dataInLength: allocationLength,
    parse: (data) => toStandardInquiry(data),
  };
}

/** Raw VPD page bytes (any page, parsed or not). */
export function vpdBytesCommand(page: number, allocationLength = 0xfc): ScsiCommand<Uint8Array> {
  if (!Number.isInteger(page) || page < 0 || page > 0xff) {
    throw new InvalidFieldError('page', 'must be a VPD page code 0..255', page);
  }
  return {
    name: `INQUIRY VPD ${hexByte(page)}`,
    cdb: buildCdb('inquiry', { evpd: 1, pageCode: page, allocationLength }),
    dataInLength: allocationLength,
    parse: (data) => {
      // A device that ignores EVPD answers with standard INQUIRY data (sg3_utils issue #34).
      MalformedDataError.require(`VPD page 0x${page.toString(16)}`, data, 0, 4);
      if (data[1] !== page) {
        throw new MalformedDataError({
          what: `VPD page ${hexByte(page)}`,
          offset: 1,
          needed: page,
          available: data[1] ?? 0,
          reason: `page code is ${hexByte(data[1] ?? 0)} (a standard INQUIRY response?)`,
        });
      }
      return data;
    },
  };
}

/**
 * A VPD page the core parses (0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2). The allocation length is
 * 0xfc by default; when the page says it is longer, {@link Device.vpdPage} asks again with room.
 */
export function vpdPageCommand(page: number, allocationLength = 0xfc): ScsiCommand<VpdPage> {
  if (!SUPPORTED_VPD_PAGES.includes(page)) {
    throw new InvalidFieldError(
      'page',
      `must be one of ${SUPPORTED_VPD_PAGES.map((p) => `0x${p.toString(16)}`).join(', ')} (parsed pages)`,
      page,
    );
  }
  const raw = vpdBytesCommand(page, allocationLength);
  return { ...raw, parse: (data, response) => parseVpdPage(page, raw.parse(data, response)) };
}

/** Association of a designator (SPC-6 7.7.6.1). */
export type DesignatorAssociation = 'logical unit' | 'target port' | 'target device';

/** One identifier of the Device Identification VPD page, decoded. */
export interface DeviceIdentifier {
  /** What it identifies. */
  readonly association: DesignatorAssociation;
  /** DESIGNATOR TYPE. */
  readonly type: number;
  /** Its name as sg_vpd prints it (`NAA`, `T10 vendor identification`, `SCSI name string`). */
  readonly typeName: string;
  /** CODE SET. */
  readonly codeSet: 'binary' | 'ascii' | 'utf-8' | 'reserved';
  /** PROTOCOL IDENTIFIER, when PIV is set (target port and device associations). */
  readonly protocolIdentifier?: number;
  /** The designator: lowercase hex for binary ones, text for ASCII/UTF-8 (trailing NULs and spaces trimmed). */
  readonly value: string;
  /** The DESIGNATOR bytes. */
  readonly bytes: Uint8Array;
}

const DESIGNATOR_TYPES: readonly string[] = [
  'vendor specific [0x0]',
  'T10 vendor identification',
  'EUI-64 based',
  'NAA',
  'Relative target port',
  'Target port group',
  'Logical unit group',
  'MD5 logical unit identifier',
  'SCSI name string',
  'Protocol specific port identifier',
  'UUID identifier',
];
const ASSOCIATIONS: readonly DesignatorAssociation[] = ['logical unit', 'target port', 'target device'];
const CODE_SETS: Readonly<Record<number, DeviceIdentifier['codeSet']>> = {
  1: 'binary',
  2: 'ascii',
  3: 'utf-8',
};

/** Decodes a designator of VPD page 0x83 into a {@link DeviceIdentifier}. */
export function toDeviceIdentifier(d: Designator): DeviceIdentifier {
  const type = d.fields.designatorType;
  const codeSet = CODE_SETS[d.fields.codeSet] ?? 'reserved';
  const association = ASSOCIATIONS[d.fields.association] ?? 'logical unit';
  const value =
    codeSet === 'ascii' || codeSet === 'utf-8'
      ? Buffer.from(d.designator)
          .toString(codeSet === 'ascii' ? 'latin1' : 'utf8')
          .replace(/[\0 ]+$/, '')
      : Buffer.from(d.designator).toString('hex');
  return {
    association,
    type,
    typeName: DESIGNATOR_TYPES[type] ?? `reserved [0x${type.toString(16)}]`,
    codeSet,
    ...(d.fields.piv === 1 && association !== 'logical unit'
      ? { protocolIdentifier: d.fields.protocolIdentifier }
      : {}),
    value,
    bytes: d.designator,
  };
}
