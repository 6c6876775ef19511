import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ASC_ASCQ_COUNTS,
  ascAscqText,
  decodeSense,
  driverStatusName,
  formatSenseLine,
  hostStatusName,
  MalformedDataError,
  scsiStatusName,
  senseDescriptorTypeName,
  senseKeyName,
} from '../../src/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('sense decoding', () => {
  it('decodes fixed format with a valid INFORMATION field (medium error at lba 0x1234)', () => {
    const s = decodeSense(hex('f0 00 03 00 00 12 34 0a 00 00 00 00 11 00 00 00 00 00'));
    expect(s).toMatchObject({
      format: 'fixed',
      responseCode: 0x70,
      current: true,
      senseKey: 3,
      senseKeyName: 'Medium Error',
      asc: 0x11,
      ascq: 0,
      ascText: 'Unrecovered read error',
      information: 0x1234n,
      length: 18,
    });
    expect(formatSenseLine(s)).toBe('Medium Error: Unrecovered read error, lba 0x1234');
  });

  it('ignores INFORMATION without the VALID bit, and decodes a CDB field pointer', () => {
    const s = decodeSense(hex('70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 cf 00 02'));
    expect(s.information).toBeUndefined();
    expect(s.senseKeySpecific).toEqual({
      kind: 'field-pointer',
      inCdb: true,
      bitPointer: 7,
      fieldPointer: 2,
    });
    expect(formatSenseLine(s)).toBe('Illegal Request: Invalid field in cdb, cdb byte 2 bit 7');
  });

  it('decodes descriptor format with information, sense-key specific and ATA descriptors', () => {
    const s = decodeSense(
      hex(
        '72 01 00 1d 00 00 00 22' +
          '00 0a 80 00 00 00 00 00 00 00 12 34' +
          '02 06 00 00 80 00 05 00' +
          '09 0c 01 04 00 01 02 03 04 05 06 07 40 51',
      ),
    );
    expect(s).toMatchObject({
      format: 'descriptor',
      senseKey: 1,
      asc: 0x00,
      ascq: 0x1d,
      ascText: 'ATA pass through information available',
      information: 0x1234n,
      senseKeySpecific: { kind: 'retry-count', actualRetryCount: 5 },
    });
    expect(s.descriptors.map((d) => d.typeName)).toEqual([
      'Information',
      'Sense key specific',
      'ATA status return',
    ]);
    expect(s.descriptors[2]?.fields).toMatchObject({ extend: true, error: 4, count: 1, status: 0x51 });
  });

  it('marks deferred errors and progress indications', () => {
    const s = decodeSense(hex('71 00 02 00 00 00 00 0a 00 00 00 00 04 04 00 80 80 00'));
    expect(s.current).toBe(false);
    expect(formatSenseLine(s)).toBe(
      'Deferred Not Ready: Logical unit not ready, format in progress, progress 50%',
    );
  });

  it('bounds decoding by ADDITIONAL SENSE LENGTH and by the bytes given', () => {
    const short = decodeSense(hex('70 00 06 00 00 00 00 0a 00 00 00'));
    expect([short.senseKey, short.asc, short.ascq, short.length]).toEqual([6, 0, 0, 11]);
    const clipped = decodeSense(hex('70 00 06 00 00 00 00 04 00 00 00 00 29 00 00 00 00 00'));
    expect(clipped.asc).toBe(0); // byte 12 lies beyond 8 + 4
  });

  it('rejects buffers that are not sense data', () => {
    expect(() => decodeSense(new Uint8Array())).toThrow(MalformedDataError);
    expect(() => decodeSense(hex('7f 00 05'))).toThrow(/response code 0x7f is not a sense data format/);
  });

  it('fuzz: any bytes give a decoded sense or MalformedDataError, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 260 }), (bytes) => {
        try {
          const s = decodeSense(bytes);
          expect(s.length).toBeLessThanOrEqual(bytes.length);
          expect(typeof formatSenseLine(s)).toBe('string');
        } catch (e) {
          expect(e).toBeInstanceOf(MalformedDataError);
        }
      }),
      { numRuns: 2000 },
    );
    // Bias towards valid response codes so the descriptor walker is exercised.
    fc.assert(
      fc.property(
        fc.constantFrom(0x70, 0x71, 0x72, 0x73, 0xf0, 0xf2),
        fc.uint8Array({ maxLength: 252 }),
        (rc, rest) => {
          const s = decodeSense(Uint8Array.of(rc, ...rest));
          for (const d of s.descriptors) expect(d.bytes.length).toBe(2 + (d.bytes[1] ?? 0));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('names', () => {
  it('has the T10 table sizes sg3_utils 1.46 has', () => {
    expect(ASC_ASCQ_COUNTS).toEqual({ pairs: 761, ranges: 6 });
  });
  it('names codes like sg3_utils, including ranges and vendor-specific values', () => {
    expect(ascAscqText(0x40, 0x85)).toBe('Diagnostic failure on component [0x85]');
    expect(ascAscqText(0x99, 0x85)).toBe('vendor specific ASC=99, ASCQ=85 (hex)');
    expect(ascAscqText(0x24, 0x85)).toBe('ASC=24, vendor specific qualification ASCQ=85 (hex)');
    expect(ascAscqText(0x24, 0x33)).toBe('ASC=24, ASCQ=33 (hex)');
    expect(senseKeyName(0xb)).toBe('Aborted Command');
    expect(senseDescriptorTypeName(0x80)).toBe('Vendor specific');
    expect(scsiStatusName(0x28)).toBe('TASK SET FULL');
    expect(scsiStatusName(0x01)).toBe('reserved status 0x01');
    expect(hostStatusName(0x14)).toBe('DID_TRANSPORT_MARGINAL');
    expect(driverStatusName(0x08)).toBe('DRIVER_SENSE');
  });
});
