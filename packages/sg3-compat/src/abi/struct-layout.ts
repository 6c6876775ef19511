/**
 * Declarative C struct layouts: a struct is a list of fields in declaration order, and its
 * offsets, padding and size on each ABI follow from the C rules (each member at the next
 * multiple of its alignment, the size rounded up to the largest alignment). The unit tests
 * prove every computed layout against gcc's offsetof/sizeof on both ABIs.
 * @module
 */
import { InvalidFieldError } from '@sgv4/core';
import { type CType, cTypeAlign, cTypeSize, type SgAbi } from './c-abi.js';

/** One member of a struct, as declared in C. */
export interface FieldDecl<N extends string = string> {
  /** The camelCase name used in TypeScript objects and error messages. */
  readonly name: N;
  /** The member's name in the C header. */
  readonly cName: string;
  /** Its C type. */
  readonly type: CType;
  /** Elements, for a C array member (`int unused[2]`); absent for a scalar. */
  readonly count?: number;
}

/** A member placed on one ABI. */
export interface FieldLayout<N extends string = string> extends FieldDecl<N> {
  /** Byte offset (offsetof). */
  readonly offset: number;
  /** Bytes of one element (sizeof the member for a scalar). */
  readonly elementSize: number;
  /** Bytes of the whole member (sizeof). */
  readonly size: number;
}

/** A struct placed on one ABI. */
export interface StructLayout<N extends string = string> {
  /** The C struct name, e.g. `sg_io_hdr`. */
  readonly cName: string;
  /** The ABI the offsets are for. */
  readonly abi: SgAbi;
  /** sizeof(struct), trailing padding included. */
  readonly size: number;
  /** _Alignof(struct). */
  readonly align: number;
  /** The members in declaration order. */
  readonly fields: readonly FieldLayout<N>[];
}

/** Places `fields` on `abi` by the C layout rules. */
export function layoutStruct<N extends string>(
  cName: string,
  fields: readonly FieldDecl<N>[],
  abi: SgAbi,
): StructLayout<N> {
  let offset = 0;
  let align = 1;
  const placed: FieldLayout<N>[] = [];
  for (const f of fields) {
    const count = f.count ?? 1;
    if (!Number.isInteger(count) || count < 1) {
      throw new InvalidFieldError(`${cName}.${f.cName}`, 'array count must be an integer >= 1', f.count);
    }
    const a = cTypeAlign(f.type, abi);
    const elementSize = cTypeSize(f.type, abi);
    offset = Math.ceil(offset / a) * a;
    placed.push({ ...f, offset, elementSize, size: elementSize * count });
    offset += elementSize * count;
    align = Math.max(align, a);
  }
  return { cName, abi, size: Math.ceil(offset / align) * align, align, fields: placed };
}
