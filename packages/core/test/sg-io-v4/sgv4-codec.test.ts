import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createSgIoV4Header,
  decodeSgIoV4,
  encodeSgIoV4,
  InvalidFieldError,
  MalformedDataError,
  SG_IO_V4_LAYOUT,
  SG_IO_V4_SIZE,
  type SgIoV4Header,
} from '../../src/index.js';

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const s32 = fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff });
const u64 = fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn });

const headerArbitrary: fc.Arbitrary<SgIoV4Header> = fc.record(
  Object.fromEntries(
    SG_IO_V4_LAYOUT.map((f) => [f.name, f.type === 'u64' ? u64 : f.type === 's32' ? s32 : u32]),
  ) as unknown as { [K in keyof SgIoV4Header]: fc.Arbitrary<SgIoV4Header[K]> },
);

describe('sg_io_v4 codec', () => {
  it('creates a header with guard Q and zeros', () => {
    const h = createSgIoV4Header({ timeout: 5000 });
    expect(h.guard).toBe(0x51);
    expect(h.timeout).toBe(5000);
    expect(h.request).toBe(0n);
    const bytes = encodeSgIoV4(h);
    expect(bytes.length).toBe(SG_IO_V4_SIZE);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x51, 0, 0, 0]);
    expect(Array.from(bytes.subarray(88, 92))).toEqual([0x88, 0x13, 0, 0]);
  });

  it('round-trips any in-range header', () => {
    fc.assert(
      fc.property(headerArbitrary, (h) => {
        expect(decodeSgIoV4(encodeSgIoV4(h))).toEqual(h);
      }),
    );
  });

  it('decodes any 160 bytes and re-encodes them unchanged', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 160, maxLength: 160 }), (bytes) => {
        expect(Array.from(encodeSgIoV4(decodeSgIoV4(bytes)))).toEqual(Array.from(bytes));
      }),
    );
  });

  it('writes into a target at an offset', () => {
    const target = new Uint8Array(400).fill(0xee);
    const view = encodeSgIoV4(createSgIoV4Header({ flags: 0x10 }), target, 200);
    expect(view.byteOffset).toBe(200);
    expect(target[199]).toBe(0xee);
    expect(target[200]).toBe(0x51);
    expect(target[360]).toBe(0xee);
    expect(decodeSgIoV4(target, 200).flags).toBe(0x10);
    expect(() => encodeSgIoV4(createSgIoV4Header(), target, 300)).toThrow(InvalidFieldError);
  });

  it('rejects out-of-range fields by name', () => {
    const cases: [Partial<SgIoV4Header>, string][] = [
      [{ timeout: -1 }, 'timeout'],
      [{ flags: 2 ** 32 }, 'flags'],
      [{ dinResid: 2 ** 31 }, 'dinResid'],
      [{ guard: 1.5 }, 'guard'],
      [{ request: -1n }, 'request'],
      [{ usrPtr: 2n ** 64n }, 'usrPtr'],
    ];
    for (const [partial, field] of cases) {
      const h = createSgIoV4Header(partial);
      expect(() => encodeSgIoV4(h)).toThrow(InvalidFieldError);
      try {
        encodeSgIoV4(h);
      } catch (e) {
        expect((e as InvalidFieldError).field).toBe(field);
      }
    }
    const wrongType = { ...createSgIoV4Header(), requestTag: 5 } as unknown as SgIoV4Header;
    expect(() => encodeSgIoV4(wrongType)).toThrow(/requestTag: must be a bigint/);
  });

  it('fuzz: decoding random-length bytes gives a header or MalformedDataError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 60 }), (bytes, offset) => {
        try {
          const h = decodeSgIoV4(bytes, offset);
          expect(bytes.length - offset).toBeGreaterThanOrEqual(160);
          expect(typeof h.guard).toBe('number');
        } catch (e) {
          expect(e).toBeInstanceOf(MalformedDataError);
        }
      }),
    );
  });
});
