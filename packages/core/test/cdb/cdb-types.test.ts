// Type tests for the typed CDB tables: `pnpm lint` (tsc) checks the expectTypeOf lines, and
// the runtime assertions check the same decodes give the values the types promise.
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  buildCdb,
  type CdbFields,
  type CdbInput,
  cdbSpec,
  type DecodedCdb,
  type DecodedFields,
  decodeCdb,
  decodeTableStrict,
  defineCdb,
  encodeCdb,
  InvalidFieldError,
  type READ10_CDB,
  type READ16_CDB,
} from '../../src/index.js';

describe('typed CDB tables', () => {
  it('decodes READ(10) to its typed fields after narrowing on the key', () => {
    const d = decodeCdb(buildCdb('read10', { lba: 0x1234, transferLength: 8, fua: true }));
    expectTypeOf(d).toEqualTypeOf<DecodedCdb>();
    if (d.key !== 'read10') throw new Error(`decoded as ${d.key}`);
    expectTypeOf(d.fields).toEqualTypeOf<CdbFields<'read10'>>();
    expectTypeOf(d.fields).toEqualTypeOf<DecodedFields<typeof READ10_CDB>>();
    expectTypeOf(d.fields.lba).toEqualTypeOf<number>();
    expectTypeOf(d.fields.transferLength).toEqualTypeOf<number>();
    expectTypeOf(d.fields).toHaveProperty('rarc');
    expectTypeOf(d.fields).not.toHaveProperty('verificationLength');
    expectTypeOf(d.opcode).toEqualTypeOf<0x28>();
    expect(d.fields).toMatchObject({ operationCode: 0x28, lba: 0x1234, transferLength: 8, fua: 1 });
    expect(d.opcode).toBe(0x28);
    expect(d.serviceAction).toBeUndefined();
  });

  it('types 64-bit fields as bigint (READ(16)) and names alike (READ(16) by name)', () => {
    const d = decodeCdb(buildCdb('READ(16)', { lba: 1n << 40n, transferLength: 1 }));
    if (d.key !== 'read16') throw new Error(`decoded as ${d.key}`);
    expectTypeOf(d.fields).toEqualTypeOf<DecodedFields<typeof READ16_CDB>>();
    expectTypeOf(d.fields.lba).toEqualTypeOf<bigint>();
    expectTypeOf(d.fields.transferLength).toEqualTypeOf<number>();
    expect(d.fields.lba).toBe(1n << 40n);
  });

  it('discriminates commands that share an opcode by service action', () => {
    const d = decodeCdb(buildCdb('get-lba-status', { lba: 7n, allocationLength: 24, reportType: 2 }));
    if (d.opcode === 0x9e && d.serviceAction === 0x12) {
      expectTypeOf(d.key).toEqualTypeOf<'get-lba-status'>();
      expectTypeOf(d.fields.reportType).toEqualTypeOf<number>();
      expect(d.fields.reportType).toBe(2);
    } else {
      throw new Error(`decoded as ${d.key}`);
    }
    const cap = decodeCdb(buildCdb('read-capacity16', { allocationLength: 32, pmi: true }));
    if (cap.key !== 'read-capacity16') throw new Error(`decoded as ${cap.key}`);
    expectTypeOf(cap.serviceAction).toEqualTypeOf<0x10>();
    expectTypeOf(cap.fields).toHaveProperty('pmi');
    expect(cap.fields).toMatchObject({ serviceAction: 0x10, allocationLength: 32, pmi: 1 });
  });

  it('types the encoders per command', () => {
    expectTypeOf<CdbInput<'inquiry'>>().toEqualTypeOf<{
      readonly evpd?: number | boolean;
      readonly pageCode?: number;
      readonly allocationLength?: number;
      readonly control?: number;
    }>();
    expectTypeOf<CdbInput<'read16'>['lba']>().toEqualTypeOf<number | bigint | undefined>();
    expectTypeOf(cdbSpec('mode-sense10').key).toEqualTypeOf<'mode-sense10'>();
    const cdb = buildCdb(cdbSpec('inquiry'), { evpd: true, pageCode: 0x80, allocationLength: 252 });
    expect(Buffer.from(cdb).toString('hex')).toBe('12018000fc00');
  });

  it('declares a vendor command with defineCdb: typed decoding, checked layout', () => {
    const VENDOR = defineCdb({
      name: 'VENDOR READ BUFFER',
      key: 'vendor-read-buffer',
      opcode: 0xc2,
      length: 10,
      direction: 'in',
      fields: [
        { name: 'operationCode', byte: 0, width: 8 },
        { name: 'mode', byte: 1, bit: 0, width: 5 },
        { name: 'bufferOffset', byte: 2, width: 48 },
        { name: 'allocationLength', byte: 8, width: 8 },
        { name: 'control', byte: 9, width: 8 },
      ],
    });
    const cdb = encodeCdb(VENDOR, { mode: 2, bufferOffset: 0x10000n, allocationLength: 64 });
    expect(Buffer.from(cdb).toString('hex')).toBe('c2020000000100004000');
    const fields = decodeTableStrict(VENDOR, cdb);
    expectTypeOf(fields.bufferOffset).toEqualTypeOf<bigint>();
    expectTypeOf(fields.mode).toEqualTypeOf<number>();
    expect(fields).toEqual({
      operationCode: 0xc2,
      mode: 2,
      bufferOffset: 0x10000n,
      allocationLength: 64,
      control: 0,
    });
    const declaration = (fields: readonly { name: string; byte: number; bit?: number; width: number }[]) => ({
      name: 'BAD',
      key: 'bad',
      opcode: 0xc0,
      length: 6,
      direction: 'none' as const,
      fields,
    });
    expect(() =>
      defineCdb(
        declaration([
          { name: 'a', byte: 1, width: 8 },
          { name: 'b', byte: 1, bit: 4, width: 2 },
        ]),
      ),
    ).toThrow(/BAD\.b: must not share bits with another field \(byte 1\)/);
    expect(() => defineCdb(declaration([{ name: 'a', byte: 5, width: 16 }]))).toThrow(
      /BAD\.a\.byte: must place the field inside the 6-byte CDB/,
    );
    expect(() => defineCdb(declaration([{ name: 'a', byte: 1, width: 0 }]))).toThrow(InvalidFieldError);
    expect(() => defineCdb({ ...declaration([]), opcode: 0x100 })).toThrow(
      /BAD\.opcode: must be an integer 0\.\.255/,
    );
  });
});
