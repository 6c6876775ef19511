import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeSense,
  encodeSense,
  InvalidFieldError,
  type SenseInput,
  type SenseKeySpecific,
} from '../../src/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('sense encoding', () => {
  it('builds fixed format golden bytes: INVALID FIELD IN CDB, field pointer byte 2 bit 7', () => {
    const s = encodeSense({
      senseKey: 5,
      asc: 0x24,
      ascq: 0,
      senseKeySpecific: { kind: 'field-pointer', inCdb: true, bitPointer: 7, fieldPointer: 2 },
    });
    expect(hex(s)).toBe('700005000000000a00000000240000cf0002');
  });

  it('builds fixed format golden bytes: MEDIUM ERROR with INFORMATION 0x1234', () => {
    expect(hex(encodeSense({ senseKey: 3, asc: 0x11, ascq: 0, information: 0x1234 }))).toBe(
      'f00003000012340a00000000110000000000',
    );
  });

  it('clears VALID when INFORMATION does not fit the fixed format (SPC-6 4.4.3)', () => {
    const s = encodeSense({ senseKey: 3, asc: 0x11, ascq: 0, information: 0x1_0000_0000n });
    expect(s[0]).toBe(0x70);
    expect(decodeSense(s).information).toBeUndefined();
    const d = encodeSense({
      format: 'descriptor',
      senseKey: 3,
      asc: 0x11,
      ascq: 0,
      information: 0x1_0000_0000n,
    });
    expect(decodeSense(d).information).toBe(0x1_0000_0000n);
  });

  it('builds descriptor format golden bytes: MISCOMPARE with INFORMATION, deferred', () => {
    const s = encodeSense({
      format: 'descriptor',
      current: false,
      senseKey: 0xe,
      asc: 0x1d,
      ascq: 0,
      information: 5,
    });
    expect(hex(s)).toBe('730e1d000000000c000a80000000000000000005');
  });

  it('orders descriptors information, command-specific, sense-key specific, FRU, block', () => {
    const s = encodeSense({
      format: 'descriptor',
      senseKey: 5,
      asc: 0x24,
      ascq: 0,
      information: 1,
      commandSpecificInformation: 2,
      senseKeySpecific: { kind: 'field-pointer', inCdb: false, fieldPointer: 9 },
      fieldReplaceableUnit: 3,
      incorrectLength: true,
    });
    expect(decodeSense(s).descriptors.map((d) => d.type)).toEqual([0, 1, 2, 3, 5]);
    expect(s[7]).toBe(s.length - 8);
  });

  const sks: fc.Arbitrary<SenseKeySpecific | undefined> = fc.option(
    fc.oneof(
      fc.record({
        kind: fc.constant('field-pointer' as const),
        inCdb: fc.boolean(),
        fieldPointer: fc.integer({ min: 0, max: 0xffff }),
        bitPointer: fc.integer({ min: 0, max: 7 }),
      }),
    ),
    { nil: undefined },
  );

  it('round-trips through decodeSense (property, both formats)', () => {
    fc.assert(
      fc.property(
        fc.record({
          format: fc.constantFrom('fixed' as const, 'descriptor' as const),
          current: fc.boolean(),
          senseKey: fc.integer({ min: 0, max: 15 }),
          asc: fc.integer({ min: 0, max: 255 }),
          ascq: fc.integer({ min: 0, max: 255 }),
          information: fc.option(fc.bigInt({ min: 0n, max: 0xffff_ffffn }), { nil: undefined }),
          fieldReplaceableUnit: fc.integer({ min: 0, max: 255 }),
          sks,
        }),
        (r) => {
          const input: SenseInput = {
            format: r.format,
            current: r.current,
            senseKey: r.senseKey,
            asc: r.asc,
            ascq: r.ascq,
            fieldReplaceableUnit: r.fieldReplaceableUnit,
            ...(r.information === undefined ? {} : { information: r.information }),
            ...(r.sks === undefined ? {} : { senseKeySpecific: r.sks }),
          };
          // Field-pointer sense-key specific bytes are only decoded as such for ILLEGAL REQUEST.
          const d = decodeSense(encodeSense(input));
          expect(d.format).toBe(r.format);
          expect(d.current).toBe(r.current);
          expect([d.senseKey, d.asc, d.ascq]).toEqual([r.senseKey, r.asc, r.ascq]);
          expect(d.information).toBe(r.information);
          expect(d.fieldReplaceableUnit).toBe(
            r.fieldReplaceableUnit === 0 ? undefined : r.fieldReplaceableUnit,
          );
          if (r.sks !== undefined && r.senseKey === 5) expect(d.senseKeySpecific).toEqual(r.sks);
          if (r.sks === undefined) expect(d.senseKeySpecific).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects out-of-range fields by name', () => {
    expect(() => encodeSense({ senseKey: 16, asc: 0, ascq: 0 })).toThrow(InvalidFieldError);
    expect(() => encodeSense({ senseKey: 5, asc: 256, ascq: 0 })).toThrow(
      /asc: must be an integer in 0\.\.255/,
    );
    expect(() =>
      encodeSense({
        senseKey: 5,
        asc: 0x24,
        ascq: 0,
        senseKeySpecific: { kind: 'field-pointer', inCdb: true, fieldPointer: 70000 },
      }),
    ).toThrow(/senseKeySpecific\.fieldPointer/);
  });
});

function sg3Installed(): boolean {
  try {
    execFileSync('sg_decode_sense', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const hasSg3 = sg3Installed();

describe.skipIf(!hasSg3)(
  `encoded sense agrees with sg_decode_sense${hasSg3 ? '' : ' (SKIPPED: sg_decode_sense not installed)'}`,
  () => {
    it('fixed and descriptor field pointers and INFORMATION', () => {
      const run = (b: Uint8Array): string =>
        execFileSync(
          'sg_decode_sense',
          Array.from(b, (x) => x.toString(16).padStart(2, '0')),
          { encoding: 'utf8' },
        );
      for (const format of ['fixed', 'descriptor'] as const) {
        const fp = run(
          encodeSense({
            format,
            senseKey: 5,
            asc: 0x24,
            ascq: 0,
            senseKeySpecific: { kind: 'field-pointer', inCdb: true, bitPointer: 3, fieldPointer: 1 },
          }),
        );
        expect(fp).toMatch(/Illegal Request/);
        expect(fp).toMatch(/Error in Command: byte 1 bit 3/);
        const info = run(encodeSense({ format, senseKey: 3, asc: 0x11, ascq: 0, information: 0x4321 }));
        expect(info).toMatch(/Medium Error/);
        expect(info).toMatch(/0x0*4321/);
      }
    });
  },
);
