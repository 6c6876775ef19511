import { describe, expect, it } from 'vitest';
import { type IntFieldSpec, InvalidFieldError, readField, writeField } from '../../src/index.js';

/** The field written the slow, obvious way: BigInt over the field's bytes. */
function referenceWrite(bytes: Uint8Array, f: IntFieldSpec, value: number): void {
  const bit = f.bit ?? 0;
  const n = Math.ceil((bit + f.width) / 8);
  let word = 0n;
  for (let i = 0; i < n; i++) word = (word << 8n) | BigInt(bytes[f.byte + i] ?? 0);
  const mask = ((1n << BigInt(f.width)) - 1n) << BigInt(bit);
  word = (word & ~mask) | (BigInt(value) << BigInt(bit));
  for (let i = n - 1; i >= 0; i--) {
    bytes[f.byte + i] = Number(word & 0xffn);
    word >>= 8n;
  }
}

describe('writeField on integer fields of up to 4 bytes (the 32-bit fast path)', () => {
  it('writes every width and bit position like the BigInt reference, leaving the other bits alone', () => {
    let x = 99; // xorshift32: the same bytes and values every run
    const next = (): number => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x;
    };
    for (let width = 1; width <= 32; width++) {
      for (let bit = 0; bit + width <= 32; bit++) {
        const f: IntFieldSpec = { name: 'x', kind: 'int', byte: 1, bit, width };
        for (const value of [0, 2 ** width - 1, (next() * 2 ** 20 + next()) % 2 ** width]) {
          const bytes = Uint8Array.from({ length: 6 }, () => next() & 0xff);
          const expected = bytes.slice();
          referenceWrite(expected, f, value);
          writeField(bytes, 0, f, value, 'T');
          expect({ width, bit, bytes: [...bytes] }).toEqual({ width, bit, bytes: [...expected] });
          expect(readField(bytes, 0, f)).toBe(value);
        }
        expect(() => writeField(new Uint8Array(6), 0, f, 2 ** width, 'T')).toThrow(InvalidFieldError);
      }
    }
  });
});
