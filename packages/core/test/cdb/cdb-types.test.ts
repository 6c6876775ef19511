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
});
