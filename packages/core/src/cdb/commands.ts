/**
 * Field tables of the CDBs sgv4 builds and decodes (SPC-6, SBC-5, SAT-5), declared as data in
 * the python-scsi manner: one literal table per command, read by the one generic codec in
 * `field-table.ts`. The declarations are `const`, so each field's name and width are literal
 * types and `DecodedFields<typeof READ10_CDB>` is exactly what decoding a READ(10) gives.
 * Byte 0 (OPERATION CODE) and, where there is one, the SERVICE ACTION are filled from the
 * table, never by the caller.
 * @module
 */
import { InvalidFieldError } from '../errors/invalid-field-error.js';
import type { DecodedFields, FieldTable, IntFieldSpec, WideWidth } from './field-table.js';

/** Direction of the data phase. */
export type DataDirection = 'none' | 'in' | 'out';

/** One command's CDB layout. Every CDB field is an integer field. */
export interface CdbSpec extends FieldTable {
  /** Short key used by the CLI and `buildCdb`, e.g. `read10`. */
  readonly key: string;
  /** OPERATION CODE. */
  readonly opcode: number;
  /** SERVICE ACTION (bits 0..4 of byte 1) for commands that share an opcode. */
  readonly serviceAction?: number;
  /** Direction of the data the command transfers. */
  readonly direction: DataDirection;
  /** The fields, in byte order, OPERATION CODE first. */
  readonly fields: readonly CdbField[];
}

/**
 * A CDB field as the tables store it: every key present (`kind`, `bit`, `description`), so
 * the codec's property reads see one object shape and stay monomorphic.
 */
export interface CdbField extends IntFieldSpec {
  /** Always 'int': a CDB holds no text or blobs. */
  readonly kind: 'int';
  /** Bit position of the least significant bit in the field's last byte. */
  readonly bit: number;
  /** What the field means (T10 name or a note), shown by the CLI; '' when the name says it. */
  readonly description: string;
}

/** A CDB field as written in a declaration: `bit` (default 0) and `description` may be left out. */
export interface CdbFieldDeclaration {
  /** Field name (camelCase of the T10 name). */
  readonly name: string;
  /** First byte. */
  readonly byte: number;
  /** Bit position of the field's least significant bit in its last byte (default 0). */
  readonly bit?: number;
  /** Width in bits. */
  readonly width: number;
  /** What the field means, when the name does not say it. */
  readonly description?: string;
}

/**
 * A CDB table as written: the command's identity and its fields in byte order, OPERATION CODE
 * first (and SERVICE ACTION second where the command has one). {@link defineCdb} completes it.
 */
export interface CdbDeclaration {
  /** T10 name, e.g. `READ(10)`. */
  readonly name: string;
  /** Short key, e.g. `read10`. */
  readonly key: string;
  /** OPERATION CODE. */
  readonly opcode: number;
  /** SERVICE ACTION, for commands that share an opcode. */
  readonly serviceAction?: number;
  /** CDB length in bytes. */
  readonly length: number;
  /** Direction of the data phase. */
  readonly direction: DataDirection;
  /** The fields. */
  readonly fields: readonly CdbFieldDeclaration[];
}

/** A declared field completed by {@link defineCdb}: its literal name and width survive. */
export type DefinedCdbField<F> = F extends CdbFieldDeclaration
  ? CdbField & { readonly name: F['name']; readonly width: F['width'] }
  : never;

/**
 * A table completed by {@link defineCdb}: a {@link CdbSpec} whose key, opcode, service action
 * and field names keep their literal types, so `DecodedFields<typeof TABLE>` is exact.
 */
export type DefinedCdb<D extends CdbDeclaration> = CdbSpec & {
  readonly name: D['name'];
  readonly key: D['key'];
  readonly opcode: D['opcode'];
  readonly serviceAction: D extends { readonly serviceAction: infer S extends number } ? S : undefined;
  readonly length: D['length'];
  readonly direction: D['direction'];
  readonly fields: { readonly [I in keyof D['fields']]: DefinedCdbField<D['fields'][I]> };
};

/** The bits a field covers, as [byte, mask] pairs (the field's last byte holds bit `bit`). */
function fieldBits(f: CdbFieldDeclaration): [number, number][] {
  const bit = f.bit ?? 0;
  const lastByte = f.byte + Math.ceil((bit + f.width) / 8) - 1;
  const out: [number, number][] = [];
  for (let i = 0; i < f.width; i++) {
    const abs = bit + i; // counted from the last byte's bit 0 upwards
    out.push([lastByte - Math.floor(abs / 8), 1 << (abs % 8)]);
  }
  return out;
}

/**
 * Checks a declaration: OPERATION CODE a byte and SERVICE ACTION 5 bits, every field a width of
 * 1..64 bits starting at bit 0..7 inside the CDB, and no two fields sharing a bit (the codec
 * writes fields independently, so an overlap would let one field clobber another).
 */
function checkDeclaration(d: CdbDeclaration): void {
  const isInt = (v: unknown, min: number, max: number): boolean =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
  if (!isInt(d.opcode, 0, 0xff))
    throw new InvalidFieldError(`${d.name}.opcode`, 'must be an integer 0..255', d.opcode);
  if (d.serviceAction !== undefined && !isInt(d.serviceAction, 0, 0x1f)) {
    throw new InvalidFieldError(`${d.name}.serviceAction`, 'must be an integer 0..31', d.serviceAction);
  }
  if (!isInt(d.length, 1, 260))
    throw new InvalidFieldError(`${d.name}.length`, 'must be an integer 1..260', d.length);
  const used = new Uint8Array(d.length);
  for (const f of d.fields) {
    const where = `${d.name}.${f.name}`;
    if (!isInt(f.width, 1, 64))
      throw new InvalidFieldError(`${where}.width`, 'must be an integer 1..64', f.width);
    if (!isInt(f.bit ?? 0, 0, 7))
      throw new InvalidFieldError(`${where}.bit`, 'must be an integer 0..7', f.bit);
    const end = f.byte + Math.ceil(((f.bit ?? 0) + f.width) / 8);
    if (!isInt(f.byte, 0, d.length - 1) || end > d.length) {
      throw new InvalidFieldError(
        `${where}.byte`,
        `must place the field inside the ${d.length}-byte CDB`,
        f.byte,
      );
    }
    for (const [byte, mask] of fieldBits(f)) {
      if (((used[byte] ?? 0) & mask) !== 0) {
        throw new InvalidFieldError(where, `must not share bits with another field (byte ${byte})`, f.byte);
      }
      used[byte] = (used[byte] ?? 0) | mask;
    }
  }
}

/**
 * Completes and freezes a declared CDB table: defaults filled in, one object shape per field.
 * The built-in tables below are declared with it; so can a vendor-specific command be, to get
 * the same typed decoding (`decodeTable`, `DecodedFields<typeof TABLE>`) and {@link encodeCdb}.
 * A field outside the CDB, of a width outside 1..64 or sharing a bit with another is an
 * {@link InvalidFieldError} naming `<command>.<field>`.
 */
export function defineCdb<const D extends CdbDeclaration>(declaration: D): DefinedCdb<D> {
  checkDeclaration(declaration);
  const fields = declaration.fields.map(
    (f): CdbField =>
      Object.freeze({
        name: f.name,
        kind: 'int',
        byte: f.byte,
        bit: f.bit ?? 0,
        width: f.width,
        description: f.description ?? '',
      }),
  );
  // The map keeps every field's name and width, in order: the completed type describes it.
  return Object.freeze({ ...declaration, fields: Object.freeze(fields) }) as unknown as DefinedCdb<D>;
}

// Fields every table shares.
const OPERATION_CODE = { name: 'operationCode', byte: 0, width: 8, description: 'OPERATION CODE' } as const;
const SERVICE_ACTION = { name: 'serviceAction', byte: 1, width: 5, description: 'SERVICE ACTION' } as const;
const CONTROL = 'CONTROL byte (NACA, LINK)';
const CONTROL_5 = { name: 'control', byte: 5, width: 8, description: CONTROL } as const;
const CONTROL_9 = { name: 'control', byte: 9, width: 8, description: CONTROL } as const;
const CONTROL_11 = { name: 'control', byte: 11, width: 8, description: CONTROL } as const;
const CONTROL_15 = { name: 'control', byte: 15, width: 8, description: CONTROL } as const;

/** The TEST UNIT READY CDB (SPC-6). */
export const TUR_CDB = defineCdb({
  name: 'TEST UNIT READY',
  key: 'tur',
  opcode: 0x00,
  length: 6,
  direction: 'none',
  fields: [OPERATION_CODE, CONTROL_5],
});

/** The REQUEST SENSE CDB (SPC-6). */
export const REQUEST_SENSE_CDB = defineCdb({
  name: 'REQUEST SENSE',
  key: 'request-sense',
  opcode: 0x03,
  length: 6,
  direction: 'in',
  fields: [
    OPERATION_CODE,
    { name: 'desc', byte: 1, width: 1, description: 'descriptor format sense' },
    { name: 'allocationLength', byte: 4, width: 8 },
    CONTROL_5,
  ],
});

/** The INQUIRY CDB (SPC-6). */
export const INQUIRY_CDB = defineCdb({
  name: 'INQUIRY',
  key: 'inquiry',
  opcode: 0x12,
  length: 6,
  direction: 'in',
  fields: [
    OPERATION_CODE,
    { name: 'evpd', byte: 1, width: 1, description: 'enable vital product data' },
    { name: 'pageCode', byte: 2, width: 8, description: 'VPD page code (EVPD=1)' },
    { name: 'allocationLength', byte: 3, width: 16 },
    CONTROL_5,
  ],
});

/** The READ CAPACITY(10) CDB (SBC-5). */
export const READ_CAPACITY10_CDB = defineCdb({
  name: 'READ CAPACITY(10)',
  key: 'read-capacity10',
  opcode: 0x25,
  length: 10,
  direction: 'in',
  fields: [
    OPERATION_CODE,
    { name: 'lba', byte: 2, width: 32, description: 'obsolete LBA' },
    { name: 'pmi', byte: 8, width: 1, description: 'obsolete PMI' },
    CONTROL_9,
  ],
});

/** The READ CAPACITY(16) CDB (SBC-5, a SERVICE ACTION IN(16) action). */
export const READ_CAPACITY16_CDB = defineCdb({
  name: 'READ CAPACITY(16)',
  key: 'read-capacity16',
  opcode: 0x9e,
  serviceAction: 0x10,
  length: 16,
  direction: 'in',
  fields: [
    OPERATION_CODE,
    SERVICE_ACTION,
    { name: 'lba', byte: 2, width: 64, description: 'obsolete LBA' },
    { name: 'allocationLength', byte: 10, width: 32 },
    { name: 'pmi', byte: 14, width: 1 },
    CONTROL_15,
  ],
});

/** The READ(6) CDB (SBC-5). */
export const READ6_CDB = defineCdb({
  name: 'READ(6)',
  key: 'read6',
  opcode: 0x08,
  length: 6,
  direction: 'in',
  fields: [
    OPERATION_CODE,
    { name: 'lba', byte: 1, width: 21, description: 'LOGICAL BLOCK ADDRESS' },
    { name: 'transferLength', byte: 4, width: 8, description: '0 means 256 blocks' },
    CONTROL_5,
  ],
});

/** The READ(10) CDB (SBC-5). */
export const READ10_CDB = defineCdb({
  name: 'READ(10)',
  key: 'read10',
  opcode: 0x28,
  length: 10,
  direction: 'in',
  fields: [
    OPERATION_CODE,
    {
      name: 'rdprotect',
      byte: 1,
      bit: 5,
      width: 3,
      description: 'RDPROTECT protection information checking',
    },
    { name: 'dpo', byte: 1, bit: 4, width: 1, description: 'disable page out' },
    { name: 'fua', byte: 1, bit: 3, width: 1, description: 'force unit access' },
    { name: 'rarc', byte: 1, bit: 2, width: 1, description: 'rebuild assist recovery control' },
    { name: 'lba', byte: 2, width: 32, description: 'LOGICAL BLOCK ADDRESS' },
    { name: 'groupNumber', byte: 6, width: 6, description: 'GROUP NUMBER' },
    { name: 'transferLength', byte: 7, width: 16, description: 'TRANSFER LENGTH in logical blocks' },
    CONTROL_9,
  ],
});

/** The READ(12) CDB (SBC-5). */
export const READ12_CDB = defineCdb({
  name: 'READ(12)',
  key: 'read12',
  opcode: 0xa8,
  length: 12,
  direction: 'in',
  fields: [
    OPERATION_CODE,
    {
      name: 'rdprotect',
      byte: 1,
      bit: 5,
      width: 3,
      description: 'RDPROTECT protection information checking',
    },
    { name: 'dpo', byte: 1, bit: 4, width: 1, description: 'disable page out' },
    { name: 'fua', byte: 1, bit: 3, width: 1, description: 'force unit access' },
    { name: 'rarc', byte: 1, bit: 2, width: 1, description: 'rebuild assist recovery control' },
    { name: 'lba', byte: 2, width: 32, description: 'LOGICAL BLOCK ADDRESS' },
    { name: 'transferLength', byte: 6, width: 32, description: 'TRANSFER LENGTH in logical blocks' },
    { name: 'groupNumber', byte: 10, width: 6, description: 'GROUP NUMBER' },
    CONTROL_11,
  ],
});

/** The READ(16) CDB (SBC-5). */
export const READ16_CDB = defineCdb({
  name: 'READ(16)',
  key: 'read16',
  opcode: 0x88,
  length: 16,
  direction: 'in',
  fields: [
    OPERATION_CODE,
    {
      name: 'rdprotect',
      byte: 1,
      bit: 5,
      width: 3,
      description: 'RDPROTECT protection information checking',
    },
    { name: 'dpo', byte: 1, bit: 4, width: 1, description: 'disable page out' },
    { name: 'fua', byte: 1, bit: 3, width: 1, description: 'force unit access' },
    { name: 'rarc', byte: 1, bit: 2, width: 1, description: 'rebuild assist recovery control' },
    { name: 'lba', byte: 2, width: 64, description: 'LOGICAL BLOCK ADDRESS' },
    { name: 'transferLength', byte: 10, width: 32, description: 'TRANSFER LENGTH in logical blocks' },
    { name: 'groupNumber', byte: 14, width: 6, description: 'GROUP NUMBER' },
    CONTROL_15,
  ],
});

/** The WRITE(6) CDB (SBC-5). */
export const WRITE6_CDB = defineCdb({
  name: 'WRITE(6)',
  key: 'write6',
  opcode: 0x0a,
  length: 6,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    { name: 'lba', byte: 1, width: 21, description: 'LOGICAL BLOCK ADDRESS' },
    { name: 'transferLength', byte: 4, width: 8, description: '0 means 256 blocks' },
    CONTROL_5,
  ],
});

/** The WRITE(10) CDB (SBC-5). */
export const WRITE10_CDB = defineCdb({
  name: 'WRITE(10)',
  key: 'write10',
  opcode: 0x2a,
  length: 10,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    {
      name: 'wrprotect',
      byte: 1,
      bit: 5,
      width: 3,
      description: 'WRPROTECT protection information checking',
    },
    { name: 'dpo', byte: 1, bit: 4, width: 1, description: 'disable page out' },
    { name: 'fua', byte: 1, bit: 3, width: 1, description: 'force unit access' },
    { name: 'lba', byte: 2, width: 32, description: 'LOGICAL BLOCK ADDRESS' },
    { name: 'groupNumber', byte: 6, width: 6, description: 'GROUP NUMBER' },
    { name: 'transferLength', byte: 7, width: 16, description: 'TRANSFER LENGTH in logical blocks' },
    CONTROL_9,
  ],
});

/** The WRITE(12) CDB (SBC-5). */
export const WRITE12_CDB = defineCdb({
  name: 'WRITE(12)',
  key: 'write12',
  opcode: 0xaa,
  length: 12,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    {
      name: 'wrprotect',
      byte: 1,
      bit: 5,
      width: 3,
      description: 'WRPROTECT protection information checking',
    },
    { name: 'dpo', byte: 1, bit: 4, width: 1, description: 'disable page out' },
    { name: 'fua', byte: 1, bit: 3, width: 1, description: 'force unit access' },
    { name: 'lba', byte: 2, width: 32, description: 'LOGICAL BLOCK ADDRESS' },
    { name: 'transferLength', byte: 6, width: 32, description: 'TRANSFER LENGTH in logical blocks' },
    { name: 'groupNumber', byte: 10, width: 6, description: 'GROUP NUMBER' },
    CONTROL_11,
  ],
});

/** The WRITE(16) CDB (SBC-5). */
export const WRITE16_CDB = defineCdb({
  name: 'WRITE(16)',
  key: 'write16',
  opcode: 0x8a,
  length: 16,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    {
      name: 'wrprotect',
      byte: 1,
      bit: 5,
      width: 3,
      description: 'WRPROTECT protection information checking',
    },
    { name: 'dpo', byte: 1, bit: 4, width: 1, description: 'disable page out' },
    { name: 'fua', byte: 1, bit: 3, width: 1, description: 'force unit access' },
    { name: 'lba', byte: 2, width: 64, description: 'LOGICAL BLOCK ADDRESS' },
    { name: 'transferLength', byte: 10, width: 32, description: 'TRANSFER LENGTH in logical blocks' },
    { name: 'groupNumber', byte: 14, width: 6, description: 'GROUP NUMBER' },
    CONTROL_15,
  ],
});

/** The VERIFY(10) CDB (SBC-5). */
export const VERIFY10_CDB = defineCdb({
  name: 'VERIFY(10)',
  key: 'verify10',
  opcode: 0x2f,
  length: 10,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    { name: 'vrprotect', byte: 1, bit: 5, width: 3 },
    { name: 'dpo', byte: 1, bit: 4, width: 1 },
    {
      name: 'bytchk',
      byte: 1,
      bit: 1,
      width: 2,
      description: 'BYTCHK: 0 medium only, 1/3 compare with data-out',
    },
    { name: 'lba', byte: 2, width: 32 },
    { name: 'groupNumber', byte: 6, width: 6, description: 'GROUP NUMBER' },
    { name: 'verificationLength', byte: 7, width: 16 },
    CONTROL_9,
  ],
});

/** The VERIFY(16) CDB (SBC-5). */
export const VERIFY16_CDB = defineCdb({
  name: 'VERIFY(16)',
  key: 'verify16',
  opcode: 0x8f,
  length: 16,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    { name: 'vrprotect', byte: 1, bit: 5, width: 3 },
    { name: 'dpo', byte: 1, bit: 4, width: 1 },
    { name: 'bytchk', byte: 1, bit: 1, width: 2 },
    { name: 'lba', byte: 2, width: 64 },
    { name: 'verificationLength', byte: 10, width: 32 },
    { name: 'groupNumber', byte: 14, width: 6, description: 'GROUP NUMBER' },
    CONTROL_15,
  ],
});

/** The WRITE SAME(10) CDB (SBC-5). */
export const WRITE_SAME10_CDB = defineCdb({
  name: 'WRITE SAME(10)',
  key: 'write-same10',
  opcode: 0x41,
  length: 10,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    { name: 'wrprotect', byte: 1, bit: 5, width: 3 },
    { name: 'anchor', byte: 1, bit: 4, width: 1 },
    { name: 'unmap', byte: 1, bit: 3, width: 1 },
    { name: 'lba', byte: 2, width: 32 },
    { name: 'groupNumber', byte: 6, width: 6, description: 'GROUP NUMBER' },
    { name: 'numberOfBlocks', byte: 7, width: 16 },
    CONTROL_9,
  ],
});

/** The WRITE SAME(16) CDB (SBC-5). */
export const WRITE_SAME16_CDB = defineCdb({
  name: 'WRITE SAME(16)',
  key: 'write-same16',
  opcode: 0x93,
  length: 16,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    { name: 'wrprotect', byte: 1, bit: 5, width: 3 },
    { name: 'anchor', byte: 1, bit: 4, width: 1 },
    { name: 'unmap', byte: 1, bit: 3, width: 1 },
    { name: 'ndob', byte: 1, width: 1, description: 'no data-out buffer' },
    { name: 'lba', byte: 2, width: 64 },
    { name: 'numberOfBlocks', byte: 10, width: 32 },
    { name: 'groupNumber', byte: 14, width: 6, description: 'GROUP NUMBER' },
    CONTROL_15,
  ],
});

/** The SYNCHRONIZE CACHE(10) CDB (SBC-5). */
export const SYNC_CACHE10_CDB = defineCdb({
  name: 'SYNCHRONIZE CACHE(10)',
  key: 'sync-cache10',
  opcode: 0x35,
  length: 10,
  direction: 'none',
  fields: [
    OPERATION_CODE,
    { name: 'immed', byte: 1, bit: 1, width: 1 },
    { name: 'lba', byte: 2, width: 32 },
    { name: 'groupNumber', byte: 6, width: 6, description: 'GROUP NUMBER' },
    { name: 'numberOfBlocks', byte: 7, width: 16 },
    CONTROL_9,
  ],
});

/** The SYNCHRONIZE CACHE(16) CDB (SBC-5). */
export const SYNC_CACHE16_CDB = defineCdb({
  name: 'SYNCHRONIZE CACHE(16)',
  key: 'sync-cache16',
  opcode: 0x91,
  length: 16,
  direction: 'none',
  fields: [
    OPERATION_CODE,
    { name: 'immed', byte: 1, bit: 1, width: 1 },
    { name: 'lba', byte: 2, width: 64 },
    { name: 'numberOfBlocks', byte: 10, width: 32 },
    { name: 'groupNumber', byte: 14, width: 6, description: 'GROUP NUMBER' },
    CONTROL_15,
  ],
});

/** The MODE SENSE(6) CDB (SPC-6). */
export const MODE_SENSE6_CDB = defineCdb({
  name: 'MODE SENSE(6)',
  key: 'mode-sense6',
  opcode: 0x1a,
  length: 6,
  direction: 'in',
  fields: [
    OPERATION_CODE,
    { name: 'dbd', byte: 1, bit: 3, width: 1, description: 'disable block descriptors' },
    {
      name: 'pc',
      byte: 2,
      bit: 6,
      width: 2,
      description: 'page control: 0 current, 1 changeable, 2 default, 3 saved',
    },
    { name: 'pageCode', byte: 2, width: 6 },
    { name: 'subpageCode', byte: 3, width: 8 },
    { name: 'allocationLength', byte: 4, width: 8 },
    CONTROL_5,
  ],
});

/** The MODE SENSE(10) CDB (SPC-6). */
export const MODE_SENSE10_CDB = defineCdb({
  name: 'MODE SENSE(10)',
  key: 'mode-sense10',
  opcode: 0x5a,
  length: 10,
  direction: 'in',
  fields: [
    OPERATION_CODE,
    { name: 'llbaa', byte: 1, bit: 4, width: 1, description: 'long LBA accepted' },
    { name: 'dbd', byte: 1, bit: 3, width: 1 },
    { name: 'pc', byte: 2, bit: 6, width: 2 },
    { name: 'pageCode', byte: 2, width: 6 },
    { name: 'subpageCode', byte: 3, width: 8 },
    { name: 'allocationLength', byte: 7, width: 16 },
    CONTROL_9,
  ],
});

/** The MODE SELECT(6) CDB (SPC-6). */
export const MODE_SELECT6_CDB = defineCdb({
  name: 'MODE SELECT(6)',
  key: 'mode-select6',
  opcode: 0x15,
  length: 6,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    { name: 'pf', byte: 1, bit: 4, width: 1, description: 'page format' },
    { name: 'sp', byte: 1, width: 1, description: 'save pages' },
    { name: 'parameterListLength', byte: 4, width: 8 },
    CONTROL_5,
  ],
});

/** The MODE SELECT(10) CDB (SPC-6). */
export const MODE_SELECT10_CDB = defineCdb({
  name: 'MODE SELECT(10)',
  key: 'mode-select10',
  opcode: 0x55,
  length: 10,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    { name: 'pf', byte: 1, bit: 4, width: 1 },
    { name: 'sp', byte: 1, width: 1 },
    { name: 'parameterListLength', byte: 7, width: 16 },
    CONTROL_9,
  ],
});

/** The REPORT LUNS CDB (SPC-6). */
export const REPORT_LUNS_CDB = defineCdb({
  name: 'REPORT LUNS',
  key: 'report-luns',
  opcode: 0xa0,
  length: 12,
  direction: 'in',
  fields: [
    OPERATION_CODE,
    { name: 'selectReport', byte: 2, width: 8 },
    { name: 'allocationLength', byte: 6, width: 32 },
    CONTROL_11,
  ],
});

/** The REPORT SUPPORTED OPERATION CODES CDB (SPC-6 6.35, a MAINTENANCE IN action). */
export const REPORT_OPCODES_CDB = defineCdb({
  name: 'REPORT SUPPORTED OPERATION CODES',
  key: 'report-opcodes',
  opcode: 0xa3,
  serviceAction: 0x0c,
  length: 12,
  direction: 'in',
  fields: [
    OPERATION_CODE,
    SERVICE_ACTION,
    { name: 'rctd', byte: 2, bit: 7, width: 1, description: 'return command timeouts descriptor' },
    { name: 'reportingOptions', byte: 2, width: 3 },
    { name: 'requestedOperationCode', byte: 3, width: 8 },
    { name: 'requestedServiceAction', byte: 4, width: 16 },
    { name: 'allocationLength', byte: 6, width: 32 },
    CONTROL_11,
  ],
});

/** The START STOP UNIT CDB (SBC-5). */
export const START_STOP_CDB = defineCdb({
  name: 'START STOP UNIT',
  key: 'start-stop',
  opcode: 0x1b,
  length: 6,
  direction: 'none',
  fields: [
    OPERATION_CODE,
    { name: 'immed', byte: 1, width: 1 },
    { name: 'powerConditionModifier', byte: 3, width: 4 },
    { name: 'powerCondition', byte: 4, bit: 4, width: 4 },
    { name: 'noFlush', byte: 4, bit: 2, width: 1 },
    { name: 'loej', byte: 4, bit: 1, width: 1, description: 'load/eject' },
    { name: 'start', byte: 4, width: 1 },
    CONTROL_5,
  ],
});

/** The UNMAP CDB (SBC-5). */
export const UNMAP_CDB = defineCdb({
  name: 'UNMAP',
  key: 'unmap',
  opcode: 0x42,
  length: 10,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    { name: 'anchor', byte: 1, width: 1 },
    { name: 'groupNumber', byte: 6, width: 6, description: 'GROUP NUMBER' },
    { name: 'parameterListLength', byte: 7, width: 16 },
    CONTROL_9,
  ],
});

/** The RESERVE(6) CDB (SPC-2; obsolete since SPC-3). */
export const RESERVE6_CDB = defineCdb({
  name: 'RESERVE(6)',
  key: 'reserve6',
  opcode: 0x16,
  length: 6,
  direction: 'none',
  fields: [
    OPERATION_CODE,
    { name: 'extent', byte: 1, width: 1, description: 'obsolete EXTENT (SPC-2)' },
    CONTROL_5,
  ],
});

/** The RELEASE(6) CDB (SPC-2; obsolete since SPC-3). */
export const RELEASE6_CDB = defineCdb({
  name: 'RELEASE(6)',
  key: 'release6',
  opcode: 0x17,
  length: 6,
  direction: 'none',
  fields: [
    OPERATION_CODE,
    { name: 'extent', byte: 1, width: 1, description: 'obsolete EXTENT (SPC-2)' },
    CONTROL_5,
  ],
});

/** The RESERVE(10) CDB (SPC-2; obsolete since SPC-3). */
export const RESERVE10_CDB = defineCdb({
  name: 'RESERVE(10)',
  key: 'reserve10',
  opcode: 0x56,
  length: 10,
  direction: 'none',
  fields: [
    OPERATION_CODE,
    { name: 'thirdParty', byte: 1, bit: 4, width: 1, description: '3RDPTY (SPC-2)' },
    { name: 'longId', byte: 1, bit: 1, width: 1, description: 'LONGID (SPC-2)' },
    { name: 'thirdPartyDeviceId', byte: 3, width: 8 },
    { name: 'parameterListLength', byte: 7, width: 16 },
    CONTROL_9,
  ],
});

/** The RELEASE(10) CDB (SPC-2; obsolete since SPC-3). */
export const RELEASE10_CDB = defineCdb({
  name: 'RELEASE(10)',
  key: 'release10',
  opcode: 0x57,
  length: 10,
  direction: 'none',
  fields: [
    OPERATION_CODE,
    { name: 'thirdParty', byte: 1, bit: 4, width: 1, description: '3RDPTY (SPC-2)' },
    { name: 'longId', byte: 1, bit: 1, width: 1, description: 'LONGID (SPC-2)' },
    { name: 'thirdPartyDeviceId', byte: 3, width: 8 },
    { name: 'parameterListLength', byte: 7, width: 16 },
    CONTROL_9,
  ],
});

/** The PERSISTENT RESERVE IN (READ KEYS) CDB (SPC-6 6.16). */
export const PRIN_READ_KEYS_CDB = defineCdb({
  name: 'PERSISTENT RESERVE IN (READ KEYS)',
  key: 'prin-read-keys',
  opcode: 0x5e,
  serviceAction: 0x00,
  length: 10,
  direction: 'in',
  fields: [OPERATION_CODE, SERVICE_ACTION, { name: 'allocationLength', byte: 7, width: 16 }, CONTROL_9],
});

/** The PERSISTENT RESERVE IN (READ RESERVATION) CDB (SPC-6 6.16). */
export const PRIN_READ_RESERVATION_CDB = defineCdb({
  name: 'PERSISTENT RESERVE IN (READ RESERVATION)',
  key: 'prin-read-reservation',
  opcode: 0x5e,
  serviceAction: 0x01,
  length: 10,
  direction: 'in',
  fields: [OPERATION_CODE, SERVICE_ACTION, { name: 'allocationLength', byte: 7, width: 16 }, CONTROL_9],
});

/** The PERSISTENT RESERVE IN (REPORT CAPABILITIES) CDB (SPC-6 6.16). */
export const PRIN_REPORT_CAPABILITIES_CDB = defineCdb({
  name: 'PERSISTENT RESERVE IN (REPORT CAPABILITIES)',
  key: 'prin-report-capabilities',
  opcode: 0x5e,
  serviceAction: 0x02,
  length: 10,
  direction: 'in',
  fields: [OPERATION_CODE, SERVICE_ACTION, { name: 'allocationLength', byte: 7, width: 16 }, CONTROL_9],
});

/** The PERSISTENT RESERVE IN (READ FULL STATUS) CDB (SPC-6 6.16). */
export const PRIN_READ_FULL_STATUS_CDB = defineCdb({
  name: 'PERSISTENT RESERVE IN (READ FULL STATUS)',
  key: 'prin-read-full-status',
  opcode: 0x5e,
  serviceAction: 0x03,
  length: 10,
  direction: 'in',
  fields: [OPERATION_CODE, SERVICE_ACTION, { name: 'allocationLength', byte: 7, width: 16 }, CONTROL_9],
});

/** The PERSISTENT RESERVE OUT (REGISTER) CDB (SPC-6 6.17). */
export const PROUT_REGISTER_CDB = defineCdb({
  name: 'PERSISTENT RESERVE OUT (REGISTER)',
  key: 'prout-register',
  opcode: 0x5f,
  serviceAction: 0x00,
  length: 10,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    SERVICE_ACTION,
    { name: 'scope', byte: 2, bit: 4, width: 4, description: 'SCOPE: 0 = logical unit' },
    { name: 'type', byte: 2, width: 4, description: 'TYPE: 1 WE, 3 EA, 5 WE-RO, 6 EA-RO, 7 WE-AR, 8 EA-AR' },
    { name: 'parameterListLength', byte: 5, width: 32 },
    CONTROL_9,
  ],
});

/** The PERSISTENT RESERVE OUT (RESERVE) CDB (SPC-6 6.17). */
export const PROUT_RESERVE_CDB = defineCdb({
  name: 'PERSISTENT RESERVE OUT (RESERVE)',
  key: 'prout-reserve',
  opcode: 0x5f,
  serviceAction: 0x01,
  length: 10,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    SERVICE_ACTION,
    { name: 'scope', byte: 2, bit: 4, width: 4, description: 'SCOPE: 0 = logical unit' },
    { name: 'type', byte: 2, width: 4, description: 'TYPE: 1 WE, 3 EA, 5 WE-RO, 6 EA-RO, 7 WE-AR, 8 EA-AR' },
    { name: 'parameterListLength', byte: 5, width: 32 },
    CONTROL_9,
  ],
});

/** The PERSISTENT RESERVE OUT (RELEASE) CDB (SPC-6 6.17). */
export const PROUT_RELEASE_CDB = defineCdb({
  name: 'PERSISTENT RESERVE OUT (RELEASE)',
  key: 'prout-release',
  opcode: 0x5f,
  serviceAction: 0x02,
  length: 10,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    SERVICE_ACTION,
    { name: 'scope', byte: 2, bit: 4, width: 4, description: 'SCOPE: 0 = logical unit' },
    { name: 'type', byte: 2, width: 4, description: 'TYPE: 1 WE, 3 EA, 5 WE-RO, 6 EA-RO, 7 WE-AR, 8 EA-AR' },
    { name: 'parameterListLength', byte: 5, width: 32 },
    CONTROL_9,
  ],
});

/** The PERSISTENT RESERVE OUT (CLEAR) CDB (SPC-6 6.17). */
export const PROUT_CLEAR_CDB = defineCdb({
  name: 'PERSISTENT RESERVE OUT (CLEAR)',
  key: 'prout-clear',
  opcode: 0x5f,
  serviceAction: 0x03,
  length: 10,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    SERVICE_ACTION,
    { name: 'scope', byte: 2, bit: 4, width: 4, description: 'SCOPE: 0 = logical unit' },
    { name: 'type', byte: 2, width: 4, description: 'TYPE: 1 WE, 3 EA, 5 WE-RO, 6 EA-RO, 7 WE-AR, 8 EA-AR' },
    { name: 'parameterListLength', byte: 5, width: 32 },
    CONTROL_9,
  ],
});

/** The PERSISTENT RESERVE OUT (PREEMPT) CDB (SPC-6 6.17). */
export const PROUT_PREEMPT_CDB = defineCdb({
  name: 'PERSISTENT RESERVE OUT (PREEMPT)',
  key: 'prout-preempt',
  opcode: 0x5f,
  serviceAction: 0x04,
  length: 10,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    SERVICE_ACTION,
    { name: 'scope', byte: 2, bit: 4, width: 4, description: 'SCOPE: 0 = logical unit' },
    { name: 'type', byte: 2, width: 4, description: 'TYPE: 1 WE, 3 EA, 5 WE-RO, 6 EA-RO, 7 WE-AR, 8 EA-AR' },
    { name: 'parameterListLength', byte: 5, width: 32 },
    CONTROL_9,
  ],
});

/** The PERSISTENT RESERVE OUT (PREEMPT AND ABORT) CDB (SPC-6 6.17). */
export const PROUT_PREEMPT_AND_ABORT_CDB = defineCdb({
  name: 'PERSISTENT RESERVE OUT (PREEMPT AND ABORT)',
  key: 'prout-preempt-and-abort',
  opcode: 0x5f,
  serviceAction: 0x05,
  length: 10,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    SERVICE_ACTION,
    { name: 'scope', byte: 2, bit: 4, width: 4, description: 'SCOPE: 0 = logical unit' },
    { name: 'type', byte: 2, width: 4, description: 'TYPE: 1 WE, 3 EA, 5 WE-RO, 6 EA-RO, 7 WE-AR, 8 EA-AR' },
    { name: 'parameterListLength', byte: 5, width: 32 },
    CONTROL_9,
  ],
});

/** The PERSISTENT RESERVE OUT (REGISTER AND IGNORE EXISTING KEY) CDB (SPC-6 6.17). */
export const PROUT_REGISTER_AND_IGNORE_CDB = defineCdb({
  name: 'PERSISTENT RESERVE OUT (REGISTER AND IGNORE EXISTING KEY)',
  key: 'prout-register-and-ignore',
  opcode: 0x5f,
  serviceAction: 0x06,
  length: 10,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    SERVICE_ACTION,
    { name: 'scope', byte: 2, bit: 4, width: 4, description: 'SCOPE: 0 = logical unit' },
    { name: 'type', byte: 2, width: 4, description: 'TYPE: 1 WE, 3 EA, 5 WE-RO, 6 EA-RO, 7 WE-AR, 8 EA-AR' },
    { name: 'parameterListLength', byte: 5, width: 32 },
    CONTROL_9,
  ],
});

/** The COMPARE AND WRITE CDB (SBC-5). */
export const COMPARE_AND_WRITE_CDB = defineCdb({
  name: 'COMPARE AND WRITE',
  key: 'compare-and-write',
  opcode: 0x89,
  length: 16,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    { name: 'wrprotect', byte: 1, bit: 5, width: 3 },
    { name: 'dpo', byte: 1, bit: 4, width: 1 },
    { name: 'fua', byte: 1, bit: 3, width: 1 },
    { name: 'lba', byte: 2, width: 64 },
    {
      name: 'numberOfBlocks',
      byte: 13,
      width: 8,
      description: 'NUMBER OF LOGICAL BLOCKS (data-out holds twice this)',
    },
    { name: 'groupNumber', byte: 14, width: 6, description: 'GROUP NUMBER' },
    CONTROL_15,
  ],
});

/** The WRITE AND VERIFY(10) CDB (SBC-5). */
export const WRITE_VERIFY10_CDB = defineCdb({
  name: 'WRITE AND VERIFY(10)',
  key: 'write-verify10',
  opcode: 0x2e,
  length: 10,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    { name: 'wrprotect', byte: 1, bit: 5, width: 3 },
    { name: 'dpo', byte: 1, bit: 4, width: 1 },
    {
      name: 'bytchk',
      byte: 1,
      bit: 1,
      width: 2,
      description: 'BYTCHK: 0 medium only, 1/3 compare with data-out',
    },
    { name: 'lba', byte: 2, width: 32 },
    { name: 'groupNumber', byte: 6, width: 6, description: 'GROUP NUMBER' },
    { name: 'transferLength', byte: 7, width: 16 },
    CONTROL_9,
  ],
});

/** The WRITE AND VERIFY(12) CDB (SBC-5). */
export const WRITE_VERIFY12_CDB = defineCdb({
  name: 'WRITE AND VERIFY(12)',
  key: 'write-verify12',
  opcode: 0xae,
  length: 12,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    { name: 'wrprotect', byte: 1, bit: 5, width: 3 },
    { name: 'dpo', byte: 1, bit: 4, width: 1 },
    {
      name: 'bytchk',
      byte: 1,
      bit: 1,
      width: 2,
      description: 'BYTCHK: 0 medium only, 1/3 compare with data-out',
    },
    { name: 'lba', byte: 2, width: 32 },
    { name: 'transferLength', byte: 6, width: 32 },
    { name: 'groupNumber', byte: 10, width: 6, description: 'GROUP NUMBER' },
    CONTROL_11,
  ],
});

/** The WRITE AND VERIFY(16) CDB (SBC-5). */
export const WRITE_VERIFY16_CDB = defineCdb({
  name: 'WRITE AND VERIFY(16)',
  key: 'write-verify16',
  opcode: 0x8e,
  length: 16,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    { name: 'wrprotect', byte: 1, bit: 5, width: 3 },
    { name: 'dpo', byte: 1, bit: 4, width: 1 },
    {
      name: 'bytchk',
      byte: 1,
      bit: 1,
      width: 2,
      description: 'BYTCHK: 0 medium only, 1/3 compare with data-out',
    },
    { name: 'lba', byte: 2, width: 64 },
    { name: 'transferLength', byte: 10, width: 32 },
    { name: 'groupNumber', byte: 14, width: 6, description: 'GROUP NUMBER' },
    CONTROL_15,
  ],
});

/** The VERIFY(12) CDB (SBC-5). */
export const VERIFY12_CDB = defineCdb({
  name: 'VERIFY(12)',
  key: 'verify12',
  opcode: 0xaf,
  length: 12,
  direction: 'out',
  fields: [
    OPERATION_CODE,
    { name: 'vrprotect', byte: 1, bit: 5, width: 3 },
    { name: 'dpo', byte: 1, bit: 4, width: 1 },
    {
      name: 'bytchk',
      byte: 1,
      bit: 1,
      width: 2,
      description: 'BYTCHK: 0 medium only, 1/3 compare with data-out',
    },
    { name: 'lba', byte: 2, width: 32 },
    { name: 'verificationLength', byte: 6, width: 32 },
    { name: 'groupNumber', byte: 10, width: 6, description: 'GROUP NUMBER' },
    CONTROL_11,
  ],
});

/** The PRE-FETCH(10) CDB (SBC-5). */
export const PREFETCH10_CDB = defineCdb({
  name: 'PRE-FETCH(10)',
  key: 'prefetch10',
  opcode: 0x34,
  length: 10,
  direction: 'none',
  fields: [
    OPERATION_CODE,
    { name: 'immed', byte: 1, bit: 1, width: 1 },
    { name: 'lba', byte: 2, width: 32 },
    { name: 'groupNumber', byte: 6, width: 6, description: 'GROUP NUMBER' },
    { name: 'prefetchLength', byte: 7, width: 16 },
    CONTROL_9,
  ],
});

/** The PRE-FETCH(16) CDB (SBC-5). */
export const PREFETCH16_CDB = defineCdb({
  name: 'PRE-FETCH(16)',
  key: 'prefetch16',
  opcode: 0x90,
  length: 16,
  direction: 'none',
  fields: [
    OPERATION_CODE,
    { name: 'immed', byte: 1, bit: 1, width: 1 },
    { name: 'lba', byte: 2, width: 64 },
    { name: 'prefetchLength', byte: 10, width: 32 },
    { name: 'groupNumber', byte: 14, width: 6, description: 'GROUP NUMBER' },
    CONTROL_15,
  ],
});

/** The PREVENT ALLOW MEDIUM REMOVAL CDB (SBC-5). */
export const PREVENT_ALLOW_CDB = defineCdb({
  name: 'PREVENT ALLOW MEDIUM REMOVAL',
  key: 'prevent-allow',
  opcode: 0x1e,
  length: 6,
  direction: 'none',
  fields: [
    OPERATION_CODE,
    { name: 'prevent', byte: 4, width: 2, description: 'PREVENT: 0 allow, 1 prevent' },
    CONTROL_5,
  ],
});

/** The GET LBA STATUS CDB (SBC-5, a SERVICE ACTION IN(16) action). */
export const GET_LBA_STATUS_CDB = defineCdb({
  name: 'GET LBA STATUS',
  key: 'get-lba-status',
  opcode: 0x9e,
  serviceAction: 0x12,
  length: 16,
  direction: 'in',
  fields: [
    OPERATION_CODE,
    SERVICE_ACTION,
    { name: 'lba', byte: 2, width: 64, description: 'STARTING LOGICAL BLOCK ADDRESS' },
    { name: 'allocationLength', byte: 10, width: 32 },
    {
      name: 'reportType',
      byte: 14,
      width: 2,
      description: 'REPORT TYPE (SBC-5): 0 all, 1 mapped or unknown, 2 deallocated, 3 anchored',
    },
    CONTROL_15,
  ],
});

/** The REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS CDB (SPC-6, a MAINTENANCE IN action). */
export const REPORT_TMFS_CDB = defineCdb({
  name: 'REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS',
  key: 'report-tmfs',
  opcode: 0xa3,
  serviceAction: 0x0d,
  length: 12,
  direction: 'in',
  fields: [
    OPERATION_CODE,
    SERVICE_ACTION,
    { name: 'repd', byte: 2, bit: 7, width: 1, description: 'return extended parameter data' },
    { name: 'allocationLength', byte: 6, width: 32 },
    CONTROL_11,
  ],
});

/** The ATA PASS-THROUGH(12) CDB (SAT-5). */
export const ATA12_CDB = defineCdb({
  name: 'ATA PASS-THROUGH(12)',
  key: 'ata12',
  opcode: 0xa1,
  length: 12,
  direction: 'none',
  fields: [
    OPERATION_CODE,
    { name: 'multipleCount', byte: 1, bit: 5, width: 3 },
    {
      name: 'protocol',
      byte: 1,
      bit: 1,
      width: 4,
      description: 'ATA protocol (SAT-5 table): 3 non-data, 4 PIO in, 5 PIO out, 6 DMA, ...',
    },
    { name: 'offline', byte: 2, bit: 6, width: 2 },
    {
      name: 'ckCond',
      byte: 2,
      bit: 5,
      width: 1,
      description: 'check condition: return ATA registers in sense',
    },
    { name: 'tType', byte: 2, bit: 4, width: 1 },
    { name: 'tDir', byte: 2, bit: 3, width: 1, description: '1 = from device' },
    { name: 'byteBlock', byte: 2, bit: 2, width: 1 },
    {
      name: 'tLength',
      byte: 2,
      width: 2,
      description: 'where the transfer length is: 0 none, 1 FEATURES, 2 COUNT, 3 STPSIU',
    },
    { name: 'features', byte: 3, width: 8 },
    { name: 'count', byte: 4, width: 8 },
    { name: 'lbaLow', byte: 5, width: 8 },
    { name: 'lbaMid', byte: 6, width: 8 },
    { name: 'lbaHigh', byte: 7, width: 8 },
    { name: 'device', byte: 8, width: 8 },
    { name: 'command', byte: 9, width: 8 },
    CONTROL_11,
  ],
});

/** The ATA PASS-THROUGH(16) CDB (SAT-5). */
export const ATA16_CDB = defineCdb({
  name: 'ATA PASS-THROUGH(16)',
  key: 'ata16',
  opcode: 0x85,
  length: 16,
  direction: 'none',
  fields: [
    OPERATION_CODE,
    { name: 'multipleCount', byte: 1, bit: 5, width: 3 },
    { name: 'protocol', byte: 1, bit: 1, width: 4 },
    { name: 'extend', byte: 1, width: 1, description: '48-bit command' },
    { name: 'offline', byte: 2, bit: 6, width: 2 },
    { name: 'ckCond', byte: 2, bit: 5, width: 1 },
    { name: 'tType', byte: 2, bit: 4, width: 1 },
    { name: 'tDir', byte: 2, bit: 3, width: 1 },
    { name: 'byteBlock', byte: 2, bit: 2, width: 1 },
    { name: 'tLength', byte: 2, width: 2 },
    { name: 'features', byte: 3, width: 16, description: 'FEATURES (15:8) then (7:0)' },
    { name: 'count', byte: 5, width: 16, description: 'COUNT (15:8) then (7:0)' },
    { name: 'lbaLowExt', byte: 7, width: 8, description: 'LBA (31:24)' },
    { name: 'lbaLow', byte: 8, width: 8, description: 'LBA (7:0)' },
    { name: 'lbaMidExt', byte: 9, width: 8, description: 'LBA (39:32)' },
    { name: 'lbaMid', byte: 10, width: 8, description: 'LBA (15:8)' },
    { name: 'lbaHighExt', byte: 11, width: 8, description: 'LBA (47:40)' },
    { name: 'lbaHigh', byte: 12, width: 8, description: 'LBA (23:16)' },
    { name: 'device', byte: 13, width: 8 },
    { name: 'command', byte: 14, width: 8 },
    CONTROL_15,
  ],
});

/**
 * Every CDB table, in the order the CLI lists them. Typed as {@link CdbSpec} for code that walks
 * all tables; {@link cdbSpec} with a literal key gives one table's exact type.
 */
export const CDB_SPECS: readonly CdbSpec[] = Object.freeze([
  TUR_CDB,
  REQUEST_SENSE_CDB,
  INQUIRY_CDB,
  READ_CAPACITY10_CDB,
  READ_CAPACITY16_CDB,
  READ6_CDB,
  READ10_CDB,
  READ12_CDB,
  READ16_CDB,
  WRITE6_CDB,
  WRITE10_CDB,
  WRITE12_CDB,
  WRITE16_CDB,
  VERIFY10_CDB,
  VERIFY16_CDB,
  WRITE_SAME10_CDB,
  WRITE_SAME16_CDB,
  SYNC_CACHE10_CDB,
  SYNC_CACHE16_CDB,
  MODE_SENSE6_CDB,
  MODE_SENSE10_CDB,
  MODE_SELECT6_CDB,
  MODE_SELECT10_CDB,
  REPORT_LUNS_CDB,
  REPORT_OPCODES_CDB,
  START_STOP_CDB,
  UNMAP_CDB,
  RESERVE6_CDB,
  RELEASE6_CDB,
  RESERVE10_CDB,
  RELEASE10_CDB,
  PRIN_READ_KEYS_CDB,
  PRIN_READ_RESERVATION_CDB,
  PRIN_REPORT_CAPABILITIES_CDB,
  PRIN_READ_FULL_STATUS_CDB,
  PROUT_REGISTER_CDB,
  PROUT_RESERVE_CDB,
  PROUT_RELEASE_CDB,
  PROUT_CLEAR_CDB,
  PROUT_PREEMPT_CDB,
  PROUT_PREEMPT_AND_ABORT_CDB,
  PROUT_REGISTER_AND_IGNORE_CDB,
  COMPARE_AND_WRITE_CDB,
  WRITE_VERIFY10_CDB,
  WRITE_VERIFY12_CDB,
  WRITE_VERIFY16_CDB,
  VERIFY12_CDB,
  PREFETCH10_CDB,
  PREFETCH16_CDB,
  PREVENT_ALLOW_CDB,
  GET_LBA_STATUS_CDB,
  REPORT_TMFS_CDB,
  ATA12_CDB,
  ATA16_CDB,
]);

/** Any of the built-in CDB tables (a union of their literal types). */
export type CdbTable =
  | typeof TUR_CDB
  | typeof REQUEST_SENSE_CDB
  | typeof INQUIRY_CDB
  | typeof READ_CAPACITY10_CDB
  | typeof READ_CAPACITY16_CDB
  | typeof READ6_CDB
  | typeof READ10_CDB
  | typeof READ12_CDB
  | typeof READ16_CDB
  | typeof WRITE6_CDB
  | typeof WRITE10_CDB
  | typeof WRITE12_CDB
  | typeof WRITE16_CDB
  | typeof VERIFY10_CDB
  | typeof VERIFY16_CDB
  | typeof WRITE_SAME10_CDB
  | typeof WRITE_SAME16_CDB
  | typeof SYNC_CACHE10_CDB
  | typeof SYNC_CACHE16_CDB
  | typeof MODE_SENSE6_CDB
  | typeof MODE_SENSE10_CDB
  | typeof MODE_SELECT6_CDB
  | typeof MODE_SELECT10_CDB
  | typeof REPORT_LUNS_CDB
  | typeof REPORT_OPCODES_CDB
  | typeof START_STOP_CDB
  | typeof UNMAP_CDB
  | typeof RESERVE6_CDB
  | typeof RELEASE6_CDB
  | typeof RESERVE10_CDB
  | typeof RELEASE10_CDB
  | typeof PRIN_READ_KEYS_CDB
  | typeof PRIN_READ_RESERVATION_CDB
  | typeof PRIN_REPORT_CAPABILITIES_CDB
  | typeof PRIN_READ_FULL_STATUS_CDB
  | typeof PROUT_REGISTER_CDB
  | typeof PROUT_RESERVE_CDB
  | typeof PROUT_RELEASE_CDB
  | typeof PROUT_CLEAR_CDB
  | typeof PROUT_PREEMPT_CDB
  | typeof PROUT_PREEMPT_AND_ABORT_CDB
  | typeof PROUT_REGISTER_AND_IGNORE_CDB
  | typeof COMPARE_AND_WRITE_CDB
  | typeof WRITE_VERIFY10_CDB
  | typeof WRITE_VERIFY12_CDB
  | typeof WRITE_VERIFY16_CDB
  | typeof VERIFY12_CDB
  | typeof PREFETCH10_CDB
  | typeof PREFETCH16_CDB
  | typeof PREVENT_ALLOW_CDB
  | typeof GET_LBA_STATUS_CDB
  | typeof REPORT_TMFS_CDB
  | typeof ATA12_CDB
  | typeof ATA16_CDB;

/** The key of a built-in table (`read10`, `inquiry`, ...). */
export type CdbKey = CdbTable['key'];

/** The T10 name of a built-in table (`READ(10)`, `INQUIRY`, ...). */
export type CdbName = CdbTable['name'];

/** A built-in command, by key or by name. */
export type CdbCommand = CdbKey | CdbName;

/** The table of a command given by key or name. */
export type CdbTableOf<C extends CdbCommand> =
  | Extract<CdbTable, { readonly key: C }>
  | Extract<CdbTable, { readonly name: C }>;

/**
 * What a CDB of command `C` decodes to: `CdbFields<'read10'>` is `{ operationCode: number;
 * rdprotect: number; ...; lba: number; transferLength: number; control: number }`, with
 * `bigint` for fields wider than 32 bits (READ(16)'s `lba`). A union of commands gives the
 * union of their field objects.
 */
export type CdbFields<C extends CdbCommand> =
  CdbTableOf<C> extends infer T extends CdbTable ? (T extends CdbTable ? DecodedFields<T> : never) : never;

/**
 * What an encoder accepts for one field: booleans for 1-bit fields, bigints for wide ones.
 * For a union of fields (one name in several tables) it accepts what any of them accepts.
 */
export type CdbFieldInput<F extends IntFieldSpec> = F extends IntFieldSpec
  ? F['width'] extends 1
    ? number | boolean
    : F['width'] extends WideWidth
      ? number | bigint
      : number
  : never;

/**
 * The fields `buildCdb(C, ...)` accepts: every field of the table but OPERATION CODE and
 * SERVICE ACTION (the table fixes them), each optional (absent = 0). For a union of commands
 * (`ten ? 'read10' : 'read16'`) a name takes what any of them accepts; the run-time check
 * still applies the chosen table's width.
 */
export type CdbInput<C extends CdbCommand> = {
  readonly [N in Exclude<
    CdbTableOf<C>['fields'][number]['name'],
    'operationCode' | 'serviceAction'
  >]?: CdbFieldInput<Extract<CdbTableOf<C>['fields'][number], { readonly name: N }>>;
};
