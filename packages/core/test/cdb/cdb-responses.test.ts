import fc from 'fast-check';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  buildModeSelectParameterList,
  buildUnmapParameterList,
  decodeTable,
  encodeTable,
  INFORMATIONAL_EXCEPTIONS_CONTROL_MODE_PAGE,
  LBA_STATUS_DESCRIPTOR,
  MalformedDataError,
  PR_CAPABILITIES,
  PR_FULL_STATUS_DESCRIPTOR,
  PR_OUT_PARAMETER_LIST,
  parseModeParameters,
  parseOneCommandSupport,
  parseReadCapacity10,
  parseReadCapacity16,
  parseReportLuns,
  parseStandardInquiry,
  parseSupportedOperationCodes,
  parseVpdPage,
  SUPPORTED_VPD_PAGES,
} from '../../src/index.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const ascii = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

describe('response parsers', () => {
  it('parses standard INQUIRY (scsi_debug-like)', () => {
    const data = hex(
      `00 00 08 12 1f 00 00 02 ${ascii('Linux   ')} ${ascii('scsi_debug      ')} ${ascii('0191')}`,
    );
    expect(parseStandardInquiry(data)).toMatchObject({
      peripheralDeviceType: 0,
      version: 8,
      responseDataFormat: 2,
      hisup: 1,
      cmdque: 1,
      vendor: 'Linux',
      product: 'scsi_debug',
      revision: '0191',
    });
    expect(() => parseStandardInquiry(data.subarray(0, 20))).toThrow(MalformedDataError);
  });

  it('parses VPD pages 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2', () => {
    expect(parseVpdPage(0, hex('00 00 00 04 00 80 83 b0'))).toMatchObject({
      supportedPages: [0, 0x80, 0x83, 0xb0],
    });
    expect(parseVpdPage(0x80, hex(`00 80 00 06 ${ascii('  1234')}`))).toMatchObject({ serialNumber: '1234' });
    const p83 = parseVpdPage(0x83, hex('00 83 00 0c 01 03 00 08 33 33 33 30 00 00 00 00'));
    expect(p83.pageCode === 0x83 && p83.designators[0]?.fields).toMatchObject({
      codeSet: 1,
      designatorType: 3,
      designatorLength: 8,
    });
    const b0 = parseVpdPage(0xb0, hex(`00 b0 00 3c ${'00'.repeat(4)} 00 00 04 00 ${'00'.repeat(52)}`));
    expect(b0.pageCode === 0xb0 && b0.fields).toMatchObject({
      maximumTransferLength: 0x400 << 0,
      maximumWriteSameLength: 0n,
    });
    const b1 = parseVpdPage(0xb1, hex(`00 b1 00 3c 00 01 00 02 ${'00'.repeat(56)}`));
    expect(b1.pageCode === 0xb1 && b1.fields).toMatchObject({ mediumRotationRate: 1, nominalFormFactor: 2 });
    const b2 = parseVpdPage(0xb2, hex('00 b2 00 04 00 e4 02 00'));
    expect(b2.pageCode === 0xb2 && b2.fields).toMatchObject({
      lbpu: 1,
      lbpws: 1,
      lbpws10: 1,
      lbprz: 1,
      provisioningType: 2,
    });
  });

  it('rejects a standard INQUIRY returned for a VPD request, and truncated pages', () => {
    expect(() => parseVpdPage(0x83, hex('00 00 08 12 1f 00 00 02'))).toThrow(
      /page code is 0x00, expected 0x83/,
    );
    expect(() => parseVpdPage(0x80, hex('00 80 00 10 41 42'))).toThrow(/needs 16 bytes at offset 4, only 2/);
    expect(() => parseVpdPage(0x83, hex('00 83 00 06 01 03 00 08 33 33'))).toThrow(MalformedDataError);
  });

  it('parses READ CAPACITY(10)/(16)', () => {
    expect(parseReadCapacity10(hex('00 01 ff ff 00 00 02 00'))).toMatchObject({
      returnedLba: 0x1ffff,
      blockLength: 512,
      capacityBytes: 0x20000n * 512n,
    });
    expect(
      parseReadCapacity16(hex(`00 00 00 00 00 01 ff ff 00 00 10 00 00 03 c0 00 ${'00'.repeat(16)}`)),
    ).toMatchObject({
      returnedLba: 0x1ffffn,
      blockLength: 4096,
      logicalBlocksPerPhysicalBlockExponent: 3,
      lbpme: 1,
      lbprz: 1,
    });
    expect(() => parseReadCapacity16(hex('00 00'))).toThrow(MalformedDataError);
  });

  it('parses and builds MODE pages (caching, control)', () => {
    const sense6 = hex(
      '2b 00 10 08  00 00 40 00 00 00 02 00  88 12 14 00 ff ff 00 00 ff ff ff ff 80 14 00 00 00 00 00 00  0a 0a 06 00 00 00 00 00 ff ff 00 00',
    );
    const mp = parseModeParameters(6, sense6);
    expect(mp.header).toMatchObject({ modeDataLength: 0x2b, dpofua: 1, blockDescriptorLength: 8 });
    expect(mp.blockDescriptors).toEqual([{ numberOfBlocks: 0x4000, blockLength: 512 }]);
    expect(mp.pages.map((p) => p.pageCode)).toEqual([0x08, 0x0a]);
    expect(mp.pages[0]?.fields).toMatchObject({ ps: 1, wce: 1, size: 0, rcd: 0, fsw: 1, minimumPrefetch: 0 });
    expect(mp.pages[1]?.fields).toMatchObject({ dSense: 1, gltsd: 1, busyTimeoutPeriod: 0xffff });
    const list = buildModeSelectParameterList(10, { caching: { wce: 1 }, control: { dSense: 1 } });
    expect(list.length).toBe(8 + 20 + 12);
    const back = parseModeParameters(10, Uint8Array.of(0, list.length - 2, ...list.subarray(2)));
    expect(back.pages[0]?.fields).toMatchObject({ ps: 0, pageCode: 8, pageLength: 0x12, wce: 1 });
    expect(back.pages[1]?.fields).toMatchObject({ pageCode: 0x0a, dSense: 1 });
    expect(() => parseModeParameters(10, hex('00 10 00 00 00 00 00 08 00'))).toThrow(/block descriptors/);
  });

  it('parses REPORT LUNS with the Linux LUN numbering', () => {
    const r = parseReportLuns(
      hex('00 00 00 10 00 00 00 00  00 00 00 00 00 00 00 00  40 01 00 00 00 00 00 00'),
    );
    expect(r.luns.map((l) => [l.lun, l.linuxLun])).toEqual([
      [0n, 0n],
      [0x4001_0000_0000_0000n, 0x4001n],
    ]);
  });

  it('parses REPORT SUPPORTED OPERATION CODES (all and one command)', () => {
    const all = parseSupportedOperationCodes(
      hex(`00 00 00 1c  00 00 00 00 00 00 00 06  9e 00 00 10 00 03 00 10  ${'00'.repeat(12)}`),
    );
    expect(all).toEqual([
      { operationCode: 0, serviceAction: 0, ctdp: 0, servactv: 0, cdbLength: 6 },
      { operationCode: 0x9e, serviceAction: 0x10, ctdp: 1, servactv: 1, cdbLength: 16 },
    ]);
    expect(parseOneCommandSupport(hex('00 03 00 06 12 01 ff ff ff 03'))).toMatchObject({
      support: 3,
      cdbSize: 6,
    });
  });

  it('encodes the device-side tables (PR capabilities, full status, LBA status) to golden bytes', () => {
    const enc = (t: Parameters<typeof encodeTable>[0], v: Parameters<typeof encodeTable>[1]): string =>
      Buffer.from(encodeTable(t, v)).toString('hex');
    expect(
      enc(PR_CAPABILITIES, {
        length: 8,
        crh: 1,
        ptplC: 1,
        tmv: 1,
        allowCommands: 1,
        wrEx: 1,
        exAc: 1,
        wrExRo: 1,
        exAcRo: 1,
        wrExAr: 1,
        exAcAr: 1,
      }),
    ).toBe('00081190ea010000');
    expect(enc(LBA_STATUS_DESCRIPTOR, { lba: 5n, numberOfBlocks: 3, provisioningStatus: 1 })).toBe(
      '00000000000000050000000301000000',
    );
    expect(
      enc(PR_FULL_STATUS_DESCRIPTOR, {
        reservationKey: 0x1122334455667788n,
        rHolder: 1,
        type: 1,
        relativeTargetPortIdentifier: 1,
        additionalDescriptorLength: 24,
      }),
    ).toBe('112233445566778800000000010100000000000100000018');
    expect(
      enc(PR_OUT_PARAMETER_LIST, { reservationKey: 1n, serviceActionReservationKey: 2n, aptpl: 1 }),
    ).toBe('000000000000000100000000000000020000000001000000');
  });

  it('parses the Read-Write Error Recovery and Informational Exceptions pages', () => {
    const data = hex('1b 00 00 00  01 0a c0 05 00 00 00 00 05 00 ff ff  1c 0a 08 06 00 00 00 00 00 00 00 01');
    const p = parseModeParameters(6, data);
    expect(p.pages.map((x) => x.fields)).toEqual([
      expect.objectContaining({
        awre: 1,
        arre: 1,
        readRetryCount: 5,
        writeRetryCount: 5,
        recoveryTimeLimit: 0xffff,
      }),
      expect.objectContaining({ dexcpt: 1, mrie: 6, reportCount: 1 }),
    ]);
    expect(decodeTable(INFORMATIONAL_EXCEPTIONS_CONTROL_MODE_PAGE, data, 16)).toMatchObject({
      pageCode: 0x1c,
    });
  });

  it('builds UNMAP parameter lists', () => {
    expect(Buffer.from(buildUnmapParameterList([{ lba: 0x10n, numberOfBlocks: 8 }])).toString('hex')).toBe(
      `0016001000000000${'0000000000000010'}00000008${'00000000'}`,
    );
  });

  it('fuzz: every parser gives a value or MalformedDataError on random bytes', () => {
    const parsers: ((b: Uint8Array) => unknown)[] = [
      parseStandardInquiry,
      parseReadCapacity10,
      parseReadCapacity16,
      (b) => parseModeParameters(6, b),
      (b) => parseModeParameters(10, b),
      parseReportLuns,
      parseSupportedOperationCodes,
      parseOneCommandSupport,
      ...SUPPORTED_VPD_PAGES.map((p) => (b: Uint8Array) => parseVpdPage(p, b)),
    ];
    fc.assert(
      fc.property(fc.nat({ max: parsers.length - 1 }), fc.uint8Array({ maxLength: 300 }), (i, bytes) => {
        try {
          (parsers[i] as (b: Uint8Array) => unknown)(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(MalformedDataError);
        }
      }),
      { numRuns: 5000 },
    );
    // VPD pages with the right page code, so the bodies are reached.
    fc.assert(
      fc.property(
        fc.constantFrom(...SUPPORTED_VPD_PAGES),
        fc.uint8Array({ maxLength: 120 }),
        (page, rest) => {
          try {
            parseVpdPage(page, Uint8Array.of(0, page, 0, rest.length, ...rest));
          } catch (e) {
            expect(e).toBeInstanceOf(MalformedDataError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('typed parsers', () => {
  it('type each field by its table: ascii -> string, wide integers -> bigint, others -> number', () => {
    const inquiry = parseStandardInquiry(new Uint8Array(36));
    expectTypeOf(inquiry.vendor).toEqualTypeOf<string>();
    expectTypeOf(inquiry.peripheralDeviceType).toEqualTypeOf<number>();
    expectTypeOf(inquiry).not.toHaveProperty('noSuchField');
    const capacity = parseReadCapacity16(new Uint8Array(32));
    expectTypeOf(capacity.returnedLba).toEqualTypeOf<bigint>();
    expectTypeOf(capacity.blockLength).toEqualTypeOf<number>();
    expectTypeOf(capacity.capacityBytes).toEqualTypeOf<bigint>();
    expect(capacity.capacityBytes).toBe(0n);
    const page = parseVpdPage(0xb0, Uint8Array.from([0, 0xb0, 0, 60, ...new Array<number>(60).fill(0)]));
    if (page.pageCode === 0xb0) {
      expectTypeOf(page.fields.maximumWriteSameLength).toEqualTypeOf<bigint | undefined>();
      expect(page.fields.maximumWriteSameLength).toBe(0n);
      expect(page.fields.maximumTransferLength).toBe(0);
    }
    expect(page.pageCode).toBe(0xb0);
  });
});
