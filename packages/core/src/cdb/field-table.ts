/**
 * The generic field codec: a structure (a CDB, a response, a mode page) is a table of
 * fields, each a run of bits at a byte offset, and ONE encoder / decoder works on any table
 * (the python-scsi model, without its class-level state: tables are frozen data).
 * @module
 */
import { InvalidFieldError } from '../errors/invalid-field-error.js';
import { MalformedDataError } from '../errors/malformed-data-error.js';

/**
 * One field. Integer fields are `width` bits, big-endian across bytes (SCSI byte order),
 * whose least significant bit is bit `bit` of the field's last byte; they start in byte
 * `byte`. So READ(6)'s 21-bit LBA is `{ byte: 1, bit: 0, width: 21 }` and INQUIRY's EVPD bit
 * is `{ byte: 1, bit: 0, width: 1 }`. `ascii` and `bytes` fields are `length` whole bytes.
 */
export type FieldSpec = IntFieldSpec | BlobFieldSpec;

/** An integer field of `width` bits. */
export interface IntFieldSpec {
  /** Field name (camelCase of the T10 name). */
  readonly name: string;
  /** Absent or 'int'. */
  readonly kind?: 'int';
  /** First byte. */
  readonly byte: number;
  /** Bit position of the field's least significant bit in its last byte (default 0). */
  readonly bit?: number;
  /** Width in bits. */
  readonly width: number;
  /** Human description, shown by the CLI. */
  readonly description?: string;
}

/** A run of whole bytes: text (`ascii`, trailing spaces trimmed on decode) or raw `bytes`. */
export interface BlobFieldSpec {
  /** Field name. */
  readonly name: string;
  /** How the bytes are presented. */
  readonly kind: 'ascii' | 'bytes';
  /** First byte. */
  readonly byte: number;
  /** Length in bytes. */
  readonly length: number;
  /** Human description. */
  readonly description?: string;
}

/** True for `ascii` and `bytes` fields (whole bytes), false for integer fields. */
export function isBlobField(f: FieldSpec): f is BlobFieldSpec {
  return f.kind === 'ascii' || f.kind === 'bytes';
}

/** A named table of fields with the structure's length. */
export interface FieldTable {
  /** What the table describes, e.g. `READ(10)` or `Caching mode page`. */
  readonly name: string;
  /** Bytes the structure occupies. */
  readonly length: number;
  /** The fields, in byte order. */
  readonly fields: readonly FieldSpec[];
}

/** A field's value: numbers up to 32 bits, bigints above, strings for ascii, bytes for blobs. */
export type FieldValue = number | bigint | string | Uint8Array;

/** Decoded fields by name. */
export type FieldValues = Record<string, FieldValue>;

/** Integer widths above 32 bits: such fields decode to bigint (see {@link readField}). */
export type WideWidth =
  | 33
  | 34
  | 35
  | 36
  | 37
  | 38
  | 39
  | 40
  | 41
  | 42
  | 43
  | 44
  | 45
  | 46
  | 47
  | 48
  | 49
  | 50
  | 51
  | 52
  | 53
  | 54
  | 55
  | 56
  | 57
  | 58
  | 59
  | 60
  | 61
  | 62
  | 63
  | 64;

/**
 * The type one field decodes to: `string` for ascii, `Uint8Array` for bytes, `bigint` for
 * integers wider than 32 bits, `number` otherwise ({@link FieldValue} when the spec is not a
 * literal).
 */
export type FieldValueOf<F extends FieldSpec> = F extends { readonly kind: 'ascii' }
  ? string
  : F extends { readonly kind: 'bytes' }
    ? Uint8Array
    : F extends { readonly width: infer W extends number }
      ? number extends W
        ? number | bigint
        : W extends WideWidth
          ? bigint
          : number
      : FieldValue;

/**
 * The typed object a table decodes to: one property per field, named as the field and typed
 * by {@link FieldValueOf}. A table declared with literal names (the built-in tables) gives
 * exact property names; a table known only as {@link FieldTable} gives {@link FieldValues}.
 */
export type DecodedFields<T extends FieldTable> = string extends T['fields'][number]['name']
  ? FieldValues
  : { -readonly [S in T['fields'][number] as S['name']]: FieldValueOf<S> };

/** {@link DecodedFields} where a field may be absent (it did not fit in the bytes given). */
export type PartialDecodedFields<T extends FieldTable> = string extends T['fields'][number]['name']
  ? FieldValues
  : Partial<DecodedFields<T>>;

/** What callers may pass to an encoder: booleans are accepted for 1-bit fields. */
export type FieldInput = Readonly<Record<string, FieldValue | boolean | undefined>>;

function spanBytes(f: { bit?: number; width: number }): number {
  return Math.ceil(((f.bit ?? 0) + f.width) / 8);
}

/** True when the table's field lies wholly inside `available` bytes. */
export function fieldFits(f: FieldSpec, available: number): boolean {
  const end = isBlobField(f) ? f.byte + f.length : f.byte + spanBytes(f);
  return end <= available;
}

/** Reads one field at `base` (the structure's start). The caller guarantees the bytes exist. */
export function readField(bytes: Uint8Array, base: number, f: FieldSpec): FieldValue {
  const start = base + f.byte;
  if (f.kind === 'ascii') {
    let s = '';
    for (let i = 0; i < f.length; i++) s += String.fromCharCode(bytes[start + i] ?? 0);
    return s.replace(/[\0 ]+$/, '');
  }
  if (isBlobField(f)) return bytes.slice(start, start + f.length);
  const n = spanBytes(f);
  const bit = f.bit ?? 0;
  if (n <= 4) {
    // bit + width <= 32: unsigned 32-bit integer operations (no floating-point remainder).
    let word = 0;
    for (let i = 0; i < n; i++) word = ((word << 8) | (bytes[start + i] ?? 0)) >>> 0;
    return f.width >= 32 ? word >>> bit : (word >>> bit) & (((1 << f.width) >>> 0) - 1);
  }
  if (n <= 6) {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + (bytes[start + i] ?? 0);
    v = Math.floor(v / 2 ** bit) % 2 ** f.width;
    return f.width > 32 ? BigInt(v) : v;
  }
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(bytes[start + i] ?? 0);
  v = (v >> BigInt(bit)) & ((1n << BigInt(f.width)) - 1n);
  return f.width > 32 ? v : Number(v);
}

/**
 * Decodes every field of `table` that fits in `available` bytes from `base` (fields that do
 * not fit are omitted; see {@link decodeTableStrict} to require them all).
 */
export function decodeTable<T extends FieldTable>(
  table: T,
  bytes: Uint8Array,
  base = 0,
  available?: number,
): PartialDecodedFields<T> {
  const avail = Math.min(available ?? bytes.length - base, bytes.length - base);
  const out: FieldValues = {};
  for (const f of table.fields) {
    if (fieldFits(f, avail)) out[f.name] = readField(bytes, base, f);
  }
  // The loop wrote exactly the fields of `table` that fit, each as readField types it.
  return out as PartialDecodedFields<T>;
}

/** Decodes `table` at `base`, throwing {@link MalformedDataError} unless all of it is there. */
export function decodeTableStrict<T extends FieldTable>(
  table: T,
  bytes: Uint8Array,
  base = 0,
  what = table.name,
): DecodedFields<T> {
  MalformedDataError.require(what, bytes, base, table.length);
  // Every field fits in table.length bytes, so every property is present.
  return decodeTable(table, bytes, base, table.length) as DecodedFields<T>;
}

function toInteger(owner: string, f: IntFieldSpec, raw: FieldValue | boolean): bigint {
  const field = `${owner}.${f.name}`;
  const max = (1n << BigInt(f.width)) - 1n;
  const rule = `must be an integer in 0..${max <= BigInt(Number.MAX_SAFE_INTEGER) ? String(max) : `2^${f.width}-1`}`;
  let v: bigint;
  if (typeof raw === 'boolean') {
    if (f.width !== 1) throw new InvalidFieldError(field, rule, raw);
    v = raw ? 1n : 0n;
  } else if (typeof raw === 'bigint') {
    v = raw;
  } else if (typeof raw === 'number' && Number.isSafeInteger(raw)) {
    v = BigInt(raw);
  } else {
    throw new InvalidFieldError(field, rule, raw);
  }
  if (v < 0n || v > max) throw new InvalidFieldError(field, rule, raw);
  return v;
}

/** Writes one field at `base`. Validates the value against the field's width or length. */
export function writeField(
  bytes: Uint8Array,
  base: number,
  f: FieldSpec,
  raw: FieldValue | boolean,
  owner: string,
): void {
  const start = base + f.byte;
  if (isBlobField(f)) {
    const data =
      typeof raw === 'string' && f.kind === 'ascii'
        ? Uint8Array.from(raw.padEnd(f.length, ' '), (c) => c.charCodeAt(0))
        : raw instanceof Uint8Array
          ? raw
          : undefined;
    if (
      data === undefined ||
      data.length > f.length ||
      (typeof raw === 'string' && /[^\x20-\x7e]/.test(raw))
    ) {
      throw new InvalidFieldError(
        `${owner}.${f.name}`,
        f.kind === 'ascii'
          ? `must be printable ASCII of at most ${f.length} characters`
          : `must be at most ${f.length} bytes`,
        raw,
      );
    }
    bytes.set(data, start);
    return;
  }
  const n = spanBytes(f);
  const bit = f.bit ?? 0;
  if (n <= 4 && (typeof raw === 'number' || typeof raw === 'boolean')) {
    // Fast path: the field's bytes fit in 32 bits (bit + width <= 32), so unsigned 32-bit
    // integer operations do it (no floating-point division or remainder).
    const v = typeof raw === 'boolean' ? (f.width === 1 ? (raw ? 1 : 0) : -1) : raw;
    const max = f.width >= 32 ? 0xffff_ffff : ((1 << f.width) >>> 0) - 1;
    if (!Number.isInteger(v) || v < 0 || v > max) toInteger(owner, f, raw); // throws with the rule
    let word = 0;
    for (let i = 0; i < n; i++) word = ((word << 8) | (bytes[start + i] ?? 0)) >>> 0;
    const mask = (max << bit) >>> 0;
    word = ((word & ~mask) | ((v << bit) & mask)) >>> 0;
    for (let i = n - 1; i >= 0; i--) {
      bytes[start + i] = word & 0xff;
      word >>>= 8;
    }
    return;
  }
  const v = toInteger(owner, f, raw);
  const shift = BigInt(bit);
  const mask = ((1n << BigInt(f.width)) - 1n) << shift;
  let word = 0n;
  for (let i = 0; i < n; i++) word = (word << 8n) | BigInt(bytes[start + i] ?? 0);
  word = (word & ~mask) | (v << shift);
  for (let i = n - 1; i >= 0; i--) {
    bytes[start + i] = Number(word & 0xffn);
    word >>= 8n;
  }
}

/** Fields by name per table, computed once (tables are immutable). */
const FIELDS_BY_NAME = new WeakMap<FieldTable, ReadonlyMap<string, FieldSpec>>();

/**
 * Encodes `values` with `table` into a new buffer of `table.length` bytes (or into `target`
 * at `base`). Unknown names and out-of-range values throw {@link InvalidFieldError} naming
 * `<table>.<field>`; absent fields stay 0.
 */
export function encodeTable(
  table: FieldTable,
  values: FieldInput,
  target?: Uint8Array,
  base = 0,
): Uint8Array {
  const out = target ?? new Uint8Array(table.length);
  let byName = FIELDS_BY_NAME.get(table);
  if (byName === undefined) {
    byName = new Map(table.fields.map((f) => [f.name, f]));
    FIELDS_BY_NAME.set(table, byName);
  }
  // Only the given fields are visited: absent ones stay 0 (fields never overlap, so order is free).
  for (const name in values) {
    const v = values[name];
    const f = byName.get(name);
    if (f === undefined)
      throw new InvalidFieldError(`${table.name}.${name}`, `is not a field of ${table.name}`, v);
    if (v !== undefined) writeField(out, base, f, v, table.name);
  }
  return target ? out.subarray(base, base + table.length) : out;
}
