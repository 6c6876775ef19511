/**
 * One generic encoder/decoder for every struct layout (the python-scsi model: the structure
 * is data, the codec is written once). Little-endian, as every Linux ABI the project runs
 * on (x86-64, i386, arm64) is.
 * @module
 */
import { InvalidFieldError, MalformedDataError } from '@sgv4/core';
import { type CType, cTypeRange, isWideType, type SgAbi } from './c-abi.js';
import { type FieldDecl, type FieldLayout, layoutStruct, type StructLayout } from './struct-layout.js';

/** The value of a member: a number (or a bigint for `ptr`/`ulong`), or an array of them. */
export type FieldValue = number | bigint | readonly number[] | readonly bigint[];

const C_NAMES: Readonly<Record<CType, string>> = {
  s8: 'char',
  u8: 'unsigned char',
  s16: 'short',
  u16: 'unsigned short',
  s32: 'int',
  u32: 'unsigned int',
  ptr: 'pointer',
  ulong: 'size_t',
};

function ruleOf(f: FieldLayout, abi: SgAbi): string {
  const { min, max } = cTypeRange(f.type, abi);
  const what = isWideType(f.type) ? `a bigint in ${min}..${max}` : `an integer in ${min}..${max}`;
  const width = isWideType(f.type) ? `, ${f.elementSize * 8}-bit on ${abi}` : '';
  return `must be ${what} (${C_NAMES[f.type]} ${f.cName}${width})`;
}

function inRange(f: FieldLayout, abi: SgAbi, v: unknown): boolean {
  const { min, max } = cTypeRange(f.type, abi);
  if (isWideType(f.type)) return typeof v === 'bigint' && v >= (min as bigint) && v <= (max as bigint);
  return typeof v === 'number' && Number.isInteger(v) && v >= (min as number) && v <= (max as number);
}

function checkValue(f: FieldLayout, abi: SgAbi, value: unknown): void {
  if (f.count === undefined) {
    if (!inRange(f, abi, value)) throw new InvalidFieldError(f.name, ruleOf(f, abi), value);
    return;
  }
  if (!Array.isArray(value) || value.length !== f.count) {
    throw new InvalidFieldError(
      f.name,
      `must be an array of ${f.count} elements (${f.cName}[${f.count}])`,
      value,
    );
  }
  value.forEach((v: unknown, i) => {
    if (!inRange(f, abi, v)) throw new InvalidFieldError(`${f.name}[${i}]`, ruleOf(f, abi), v);
  });
}

function writeScalar(view: DataView, at: number, type: CType, size: number, v: number | bigint): void {
  switch (type) {
    case 's8':
      view.setInt8(at, v as number);
      return;
    case 'u8':
      view.setUint8(at, v as number);
      return;
    case 's16':
      view.setInt16(at, v as number, true);
      return;
    case 'u16':
      view.setUint16(at, v as number, true);
      return;
    case 's32':
      view.setInt32(at, v as number, true);
      return;
    case 'u32':
      view.setUint32(at, v as number, true);
      return;
    case 'ptr':
    case 'ulong':
      if (size === 8) view.setBigUint64(at, v as bigint, true);
      else view.setUint32(at, Number(v as bigint), true);
      return;
  }
}

function readScalar(view: DataView, at: number, type: CType, size: number): number | bigint {
  switch (type) {
    case 's8':
      return view.getInt8(at);
    case 'u8':
      return view.getUint8(at);
    case 's16':
      return view.getInt16(at, true);
    case 'u16':
      return view.getUint16(at, true);
    case 's32':
      return view.getInt32(at, true);
    case 'u32':
      return view.getUint32(at, true);
    case 'ptr':
    case 'ulong':
      return size === 8 ? view.getBigUint64(at, true) : BigInt(view.getUint32(at, true));
  }
}

/**
 * Writes `values` with `layout` into `target` at `offset` (a new zeroed buffer when `target`
 * is omitted) and returns the view written. Every member is range-checked first, so a bad
 * one throws {@link InvalidFieldError} naming it and nothing is written; padding bytes are
 * left as they are in `target` (zero in a new buffer).
 */
export function encodeStruct<N extends string>(
  layout: StructLayout<N>,
  values: Readonly<Record<N, FieldValue>>,
  target?: Uint8Array,
  offset = 0,
): Uint8Array {
  for (const f of layout.fields) checkValue(f, layout.abi, values[f.name]);
  const out = target ?? new Uint8Array(layout.size);
  if (!Number.isInteger(offset) || offset < 0 || offset + layout.size > out.length) {
    throw new InvalidFieldError(
      'offset',
      `must leave ${layout.size} bytes (sizeof ${layout.cName} on ${layout.abi}) in a target of ${out.length} bytes`,
      offset,
    );
  }
  const view = new DataView(out.buffer, out.byteOffset + offset, layout.size);
  for (const f of layout.fields) {
    const v = values[f.name];
    if (f.count === undefined) writeScalar(view, f.offset, f.type, f.elementSize, v as number | bigint);
    else {
      (v as readonly (number | bigint)[]).forEach((e, i) => {
        writeScalar(view, f.offset + i * f.elementSize, f.type, f.elementSize, e);
      });
    }
  }
  return out.subarray(offset, offset + layout.size);
}

/**
 * Reads a struct with `layout` from `bytes` at `offset`. Every bit pattern decodes (a decoder
 * shows what is there; the kernel's own checks belong to the code that acts on it), so the
 * only error is {@link MalformedDataError} when fewer than sizeof bytes remain.
 */
export function decodeStruct<N extends string>(
  layout: StructLayout<N>,
  bytes: Uint8Array,
  offset = 0,
): Record<N, FieldValue> {
  if (!Number.isInteger(offset) || offset < 0) {
    throw new InvalidFieldError('offset', 'must be a non-negative integer', offset);
  }
  MalformedDataError.require(`${layout.cName} (${layout.abi})`, bytes, offset, layout.size);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, layout.size);
  const out = {} as Record<N, FieldValue>;
  for (const f of layout.fields) {
    if (f.count === undefined) out[f.name] = readScalar(view, f.offset, f.type, f.elementSize);
    else {
      const items: (number | bigint)[] = [];
      for (let i = 0; i < f.count; i++)
        items.push(readScalar(view, f.offset + i * f.elementSize, f.type, f.elementSize));
      out[f.name] = items as readonly number[] | readonly bigint[];
    }
  }
  return out;
}

/**
 * A C struct with its layouts on both ABIs and typed encode/decode. `T` is the TypeScript
 * shape of the struct: one property per declared field, numbers for integer members,
 * bigints for pointers and size_t, arrays for array members.
 */
export class StructCodec<T extends { [K in keyof T]: FieldValue }> {
  /** The C struct name. */
  readonly cName: string;
  /** The members as declared. */
  readonly fields: readonly FieldDecl<keyof T & string>[];
  readonly #layouts: Readonly<Record<SgAbi, StructLayout<keyof T & string>>>;

  /** Lays the struct out on both ABIs. */
  constructor(cName: string, fields: readonly FieldDecl<keyof T & string>[]) {
    this.cName = cName;
    this.fields = fields;
    this.#layouts = {
      lp64: layoutStruct(cName, fields, 'lp64'),
      ilp32: layoutStruct(cName, fields, 'ilp32'),
    };
  }

  /** The layout on `abi`. */
  layout(abi: SgAbi): StructLayout<keyof T & string> {
    return this.#layouts[abi];
  }

  /** sizeof on `abi`. */
  size(abi: SgAbi): number {
    return this.#layouts[abi].size;
  }

  /** Encodes one struct (see {@link encodeStruct}). */
  encode(value: Readonly<T>, abi: SgAbi, target?: Uint8Array, offset = 0): Uint8Array {
    return encodeStruct(
      this.#layouts[abi],
      value as Readonly<Record<keyof T & string, FieldValue>>,
      target,
      offset,
    );
  }

  /** Decodes one struct (see {@link decodeStruct}). */
  decode(bytes: Uint8Array, abi: SgAbi, offset = 0): T {
    return decodeStruct(this.#layouts[abi], bytes, offset) as unknown as T;
  }

  /** Encodes an array of structs, back to back (C array: the size already includes padding). */
  encodeArray(values: readonly Readonly<T>[], abi: SgAbi, target?: Uint8Array, offset = 0): Uint8Array {
    const size = this.size(abi);
    values.forEach((v, i) => {
      // Validate everything before writing anything.
      for (const f of this.#layouts[abi].fields) {
        try {
          checkValue(f, abi, (v as Record<string, unknown>)[f.name]);
        } catch (error) {
          if (error instanceof InvalidFieldError) {
            throw new InvalidFieldError(`[${i}].${error.field}`, error.rule, error.value);
          }
          throw error;
        }
      }
    });
    const out = target ?? new Uint8Array(size * values.length);
    const needed = size * values.length;
    if (!Number.isInteger(offset) || offset < 0 || offset + needed > out.length) {
      throw new InvalidFieldError(
        'offset',
        `must leave ${needed} bytes (${values.length} x ${this.cName} on ${abi}) in a target of ${out.length} bytes`,
        offset,
      );
    }
    values.forEach((v, i) => {
      this.encode(v, abi, out, offset + i * size);
    });
    return out.subarray(offset, offset + needed);
  }

  /** Decodes `count` structs stored back to back. */
  decodeArray(bytes: Uint8Array, abi: SgAbi, count: number, offset = 0): T[] {
    if (!Number.isInteger(count) || count < 0) {
      throw new InvalidFieldError('count', 'must be a non-negative integer', count);
    }
    const size = this.size(abi);
    MalformedDataError.require(`${count} x ${this.cName} (${abi})`, bytes, offset, size * count);
    const out: T[] = [];
    for (let i = 0; i < count; i++) out.push(this.decode(bytes, abi, offset + i * size));
    return out;
  }
}
