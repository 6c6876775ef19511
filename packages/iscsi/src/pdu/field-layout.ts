/**
 * A typed field-table codec for iSCSI Basic Header Segments: each PDU's 48-byte BHS is a
 * frozen table of fields (byte offset, kind, bit position), and ONE generic decoder and
 * encoder work on every table (the python-scsi model the CDB codec in `@sgv4/core` follows),
 * with TypeScript deriving each PDU's field types from its table.
 *
 * Everything is big-endian ("network byte order", RFC 7143 §11.1) except digests, which are
 * not part of the BHS.
 * @module
 */
import { InvalidFieldError } from '@sgv4/core';

/** An unsigned big-endian integer of 1, 2, 3 or 4 bytes. */
export interface UintField {
  /** Field kind. */
  readonly kind: 'u8' | 'u16' | 'u24' | 'u32';
  /** Byte offset in the BHS. */
  readonly offset: number;
}

/** An 8-byte field read as a bigint (the LUN field). */
export interface U64Field {
  /** Field kind. */
  readonly kind: 'u64';
  /** Byte offset in the BHS. */
  readonly offset: number;
}

/** One bit (`mask` has exactly one bit set) read as a boolean. */
export interface FlagField {
  /** Field kind. */
  readonly kind: 'flag';
  /** Byte offset in the BHS. */
  readonly offset: number;
  /** The bit within the byte, e.g. 0x80 for the F bit. */
  readonly mask: number;
}

/** `width` bits of one byte, starting at bit `shift` (0 = least significant). */
export interface BitsField {
  /** Field kind. */
  readonly kind: 'bits';
  /** Byte offset in the BHS. */
  readonly offset: number;
  /** Position of the field's least significant bit. */
  readonly shift: number;
  /** Width in bits (shift + width <= 8). */
  readonly width: number;
}

/** A run of whole bytes (the CDB, the ISID). */
export interface BytesField {
  /** Field kind. */
  readonly kind: 'bytes';
  /** Byte offset in the BHS. */
  readonly offset: number;
  /** Length in bytes. */
  readonly length: number;
}

/** One field of a {@link FieldLayout}. */
export type LayoutField = UintField | U64Field | FlagField | BitsField | BytesField;

/** The JS type a field decodes to. */
export type FieldType<F extends LayoutField> = F extends FlagField
  ? boolean
  : F extends U64Field
    ? bigint
    : F extends BytesField
      ? Uint8Array
      : number;

/** A named table of fields. */
export interface FieldLayout<F extends Record<string, LayoutField> = Record<string, LayoutField>> {
  /** The structure's name, e.g. `SCSI Command`, used in error messages. */
  readonly name: string;
  /** The fields by name. */
  readonly fields: Readonly<F>;
  /** The same fields as `[name, field]` pairs, in table order (what the codec walks). */
  readonly entries: readonly (readonly [string, LayoutField])[];
}

/** Decoded values of a layout: one property per field, typed by its kind. */
export type LayoutValues<L extends FieldLayout> = {
  -readonly [K in keyof L['fields']]: FieldType<L['fields'][K]>;
};

/** What an encoder accepts: every field optional (absent = 0 / false / zero bytes). */
export type LayoutInput<L extends FieldLayout> = Partial<LayoutValues<L>>;

/** Field constructors, so tables read like the RFC's diagrams. */
export const field = {
  /** One byte. */
  u8: (offset: number): UintField => ({ kind: 'u8', offset }),
  /** Two bytes. */
  u16: (offset: number): UintField => ({ kind: 'u16', offset }),
  /** Three bytes (DataSegmentLength-like). */
  u24: (offset: number): UintField => ({ kind: 'u24', offset }),
  /** Four bytes. */
  u32: (offset: number): UintField => ({ kind: 'u32', offset }),
  /** Eight bytes as a bigint. */
  u64: (offset: number): U64Field => ({ kind: 'u64', offset }),
  /** One bit. */
  flag: (offset: number, mask: number): FlagField => ({ kind: 'flag', offset, mask }),
  /** Bits `shift .. shift+width-1` of one byte. */
  bits: (offset: number, shift: number, width: number): BitsField => ({ kind: 'bits', offset, shift, width }),
  /** Whole bytes. */
  bytes: (offset: number, length: number): BytesField => ({ kind: 'bytes', offset, length }),
} as const;

/** Freezes a table. */
export function defineLayout<F extends Record<string, LayoutField>>(name: string, fields: F): FieldLayout<F> {
  return Object.freeze({
    name,
    fields: Object.freeze(fields),
    entries: Object.freeze(Object.entries(fields).map(([k, f]) => Object.freeze([k, f] as const))),
  });
}

function writeU32(bytes: Uint8Array, offset: number, v: number): void {
  bytes[offset] = v >>> 24;
  bytes[offset + 1] = (v >>> 16) & 0xff;
  bytes[offset + 2] = (v >>> 8) & 0xff;
  bytes[offset + 3] = v & 0xff;
}

// The LUN field of consecutive PDUs is nearly always the same: remember the last one decoded,
// so the hot path makes no bigint.
let lastU64High = 0;
let lastU64Low = 0;
let lastU64 = 0n;

function readU64(bytes: Uint8Array, offset: number): bigint {
  const high = readUint(bytes, offset, 4);
  const low = readUint(bytes, offset + 4, 4);
  if (high !== lastU64High || low !== lastU64Low) {
    lastU64High = high;
    lastU64Low = low;
    lastU64 = (BigInt(high) << 32n) | BigInt(low);
  }
  return lastU64;
}

function readUint(bytes: Uint8Array, offset: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + bytes[offset + i]!;
  return v;
}

/** Reads one field. The caller guarantees the bytes exist (a BHS is always 48 bytes). */
export function readLayoutField(bytes: Uint8Array, f: LayoutField): number | bigint | boolean | Uint8Array {
  switch (f.kind) {
    case 'u8':
      return bytes[f.offset]!;
    case 'u16':
      return readUint(bytes, f.offset, 2);
    case 'u24':
      return readUint(bytes, f.offset, 3);
    case 'u32':
      return readUint(bytes, f.offset, 4);
    case 'u64':
      return readU64(bytes, f.offset);
    case 'flag':
      return (bytes[f.offset]! & f.mask) !== 0;
    case 'bits':
      return (bytes[f.offset]! >>> f.shift) & ((1 << f.width) - 1);
    case 'bytes':
      return bytes.slice(f.offset, f.offset + f.length);
  }
}

/** Decodes every field of `layout` from a BHS. */
export function decodeLayout<L extends FieldLayout>(layout: L, bytes: Uint8Array): LayoutValues<L> {
  const out: Record<string, unknown> = {};
  for (const [name, f] of layout.entries) out[name] = readLayoutField(bytes, f);
  return out as LayoutValues<L>;
}

const UINT_BYTES: Readonly<Record<UintField['kind'], number>> = { u8: 1, u16: 2, u24: 3, u32: 4 };
const UINT_MAX: Readonly<Record<UintField['kind'], number>> = {
  u8: 0xff,
  u16: 0xffff,
  u24: 0xffffff,
  u32: 0xffffffff,
};

/**
 * Writes one field, validating its value: InvalidFieldError named `<layout>.<field>` with the
 * rule (e.g. `SCSI Command.attribute: must be an integer in 0..7`).
 */
export function writeLayoutField(
  bytes: Uint8Array,
  layoutName: string,
  name: string,
  f: LayoutField,
  value: unknown,
): void {
  switch (f.kind) {
    case 'u8':
    case 'u16':
    case 'u24':
    case 'u32': {
      const max = UINT_MAX[f.kind];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
        throw new InvalidFieldError(`${layoutName}.${name}`, `must be an integer in 0..${max}`, value);
      }
      let v = value;
      for (let i = UINT_BYTES[f.kind] - 1; i >= 0; i--) {
        bytes[f.offset + i] = v & 0xff;
        v = (v - (v & 0xff)) / 256;
      }
      return;
    }
    case 'u64': {
      if (typeof value !== 'bigint' || value < 0n || value > 0xffff_ffff_ffff_ffffn) {
        throw new InvalidFieldError(`${layoutName}.${name}`, 'must be a bigint in 0..2^64-1', value);
      }
      writeU32(bytes, f.offset, Number(value >> 32n));
      writeU32(bytes, f.offset + 4, Number(value & 0xffff_ffffn));
      return;
    }
    case 'flag':
      if (typeof value !== 'boolean')
        throw new InvalidFieldError(`${layoutName}.${name}`, 'must be a boolean', value);
      bytes[f.offset] = value ? bytes[f.offset]! | f.mask : bytes[f.offset]! & ~f.mask;
      return;
    case 'bits': {
      const max = (1 << f.width) - 1;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
        throw new InvalidFieldError(`${layoutName}.${name}`, `must be an integer in 0..${max}`, value);
      }
      const mask = max << f.shift;
      bytes[f.offset] = (bytes[f.offset]! & ~mask) | (value << f.shift);
      return;
    }
    case 'bytes':
      if (!(value instanceof Uint8Array) || value.length > f.length) {
        throw new InvalidFieldError(
          `${layoutName}.${name}`,
          `must be a Uint8Array of at most ${f.length} bytes`,
          value,
        );
      }
      bytes.fill(0, f.offset, f.offset + f.length);
      bytes.set(value, f.offset);
      return;
  }
}

/** Encodes `values` into `bytes` (absent fields are left as they are: zero in a fresh BHS). */
export function encodeLayout<L extends FieldLayout>(
  layout: L,
  values: LayoutInput<L>,
  bytes: Uint8Array,
): void {
  for (const [name, f] of layout.entries) {
    const v = (values as Record<string, unknown>)[name];
    if (v !== undefined) writeLayoutField(bytes, layout.name, name, f, v);
  }
}
