/**
 * Golden bytes of every response the target builds, written out by hand from the T10 layouts
 * (SPC-6, SBC-5), plus a decode with the core's parsers where the core has one.
 */
import {
  parseModeParameters,
  parseOneCommandSupport,
  parseReadCapacity16,
  parseReportLuns,
  parseStandardInquiry,
  parseSupportedOperationCodes,
  parseVpdPage,
  ScsiStatus,
} from '@sgv4/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTarget, type ScsiTarget } from '../../src/index.js';
import { hex, Initiator } from '../support/initiator.js';

const h = (s: string): string => s.replace(/\s+/g, '');
const ascii = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

let target: ScsiTarget;
let a: Initiator;

beforeEach(async () => {
  target = await createTarget({
    logicalUnits: [
      { capacityBlocks: 2048, serialNumber: 'SN0001' },
      { lun: 1, capacityBlocks: 64 },
      { lun: 300, capacityBlocks: 64 },
    ],
  });
  a = new Initiator(target, 'iqn.1994-05.com.example:a');
  await a.clearUnitAttentions();
  return () => target.close();
});

describe('INQUIRY (SPC-6 6.7)', () => {
  it('standard data: SPC-5, HISUP, CMDQUE, version descriptors SAM-5 SPC-4 SPC-5 SBC-3 SBC-4', async () => {
    const data = await a.good(['inquiry', { allocationLength: 96 }], { dataInLength: 96 });
    expect(hex(data)).toBe(
      h(`00 00 07 12 5b 00 00 02 ${ascii('SGV4    ')} ${ascii('EMBEDDED DISK   ')} ${ascii('0001')}
         ${'00'.repeat(22)} 00a0 0460 05c0 04c0 0600 ${'00'.repeat(28)}`),
    );
    expect(parseStandardInquiry(data)).toMatchObject({ version: 7, cmdque: 1, hisup: 1, vendor: 'SGV4' });
  });

  it('is cut to the ALLOCATION LENGTH, and to the expected data-in length with an overflow residual', async () => {
    expect((await a.good(['inquiry', { allocationLength: 36 }], { dataInLength: 96 })).length).toBe(36);
    const r = await a.run(['inquiry', { allocationLength: 96 }], { dataInLength: 36 });
    expect([r.dataIn.length, r.dataInResidual]).toEqual([36, -60]);
    const u = await a.run(['inquiry', { allocationLength: 36 }], { dataInLength: 64 });
    expect(u.dataInResidual).toBe(28);
  });

  it('VPD 0x00 lists 00 80 83 b0 b1 b2 in ascending order', async () => {
    const data = await a.good(['inquiry', { evpd: 1, pageCode: 0, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect(hex(data)).toBe('00000006008083b0b1b2');
  });

  it('VPD 0x80 is the serial number', async () => {
    const data = await a.good(['inquiry', { evpd: 1, pageCode: 0x80, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect(hex(data)).toBe(h(`00 80 00 06 ${ascii('SN0001')}`));
  });

  it('VPD 0x83 has the NAA 3h LU designator, a T10 vendor ID, the relative port and the port name', async () => {
    const data = await a.good(['inquiry', { evpd: 1, pageCode: 0x83, allocationLength: 255 }], {
      dataInLength: 255,
    });
    const page = parseVpdPage(0x83, data);
    if (page.pageCode !== 0x83) throw new Error('wrong page');
    expect(
      page.designators.map((d) => [d.fields.association, d.fields.designatorType, d.fields.codeSet]),
    ).toEqual([
      [0, 3, 1],
      [0, 1, 2],
      [1, 4, 1],
      [1, 8, 3],
    ]);
    expect((page.designators[0]?.designator[0] ?? 0) >> 4).toBe(3);
    expect(hex(page.designators[2]?.designator ?? new Uint8Array())).toBe('00000001');
    expect(Buffer.from(page.designators[3]?.designator ?? []).toString('latin1')).toBe(
      'sgv4-target,t,0x0001\0\0\0\0',
    );
    expect(Buffer.from(page.designators[1]?.designator ?? []).toString('latin1')).toBe(
      'SGV4    EMBEDDED DISK SN0001',
    );
  });

  it('VPD 0xb0 Block Limits follows the QueueLimits (scsi-debug preset: io_opt 512 KiB = 1024 blocks)', async () => {
    const data = await a.good(['inquiry', { evpd: 1, pageCode: 0xb0, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect(hex(data)).toBe(
      h(`00 b0 00 3c  00 ff 0001  00000000  00000400  00000000  00100000  00000100  00000001
         00000000  0000000000010000  ${'00'.repeat(20)}`),
    );
  });

  it('VPD 0xb1 reports a non-rotating medium and 0xb2 thin provisioning with LBPU, LBPWS, LBPWS10, LBPRZ', async () => {
    const b1 = await a.good(['inquiry', { evpd: 1, pageCode: 0xb1, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect(hex(b1)).toBe(h(`00 b1 00 3c 0001 ${'00'.repeat(58)}`));
    const b2 = await a.good(['inquiry', { evpd: 1, pageCode: 0xb2, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect(hex(b2)).toBe('00b2000400e40200');
  });

  it('an unsupported VPD page, EVPD 0 with a page code, and CMDDT are INVALID FIELD IN CDB', async () => {
    const s = await a.check(['inquiry', { evpd: 1, pageCode: 0x99, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect(hex(s.raw)).toBe('700005000000000a00000000240000c00002');
    const e = await a.check(['inquiry', { evpd: 0, pageCode: 0x80, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect(e.senseKeySpecific).toEqual({ kind: 'field-pointer', inCdb: true, fieldPointer: 2 });
    const c = await a.check(Uint8Array.of(0x12, 0x02, 0, 0, 96, 0), { dataInLength: 96 });
    expect(c.senseKeySpecific).toEqual({
      kind: 'field-pointer',
      inCdb: true,
      fieldPointer: 1,
      bitPointer: 1,
    });
  });

  it('a LUN the target lacks answers peripheral qualifier 011b, type 1Fh', async () => {
    const data = await a.good(['inquiry', { allocationLength: 36 }], { lun: 5, dataInLength: 36 });
    expect(data[0]).toBe(0x7f);
    const s = await a.check(['tur'], { lun: 5 });
    expect(hex(s.raw)).toBe('700005000000000a00000000250000000000');
    const rs = await a.good(['request-sense', { allocationLength: 18 }], { lun: 5, dataInLength: 18 });
    expect(hex(rs)).toBe('700005000000000a00000000250000000000');
  });
});

describe('READ CAPACITY (SBC-5 5.20, 5.21)', () => {
  it('(10): last LBA and block length', async () => {
    expect(hex(await a.good(['read-capacity10'], { dataInLength: 8 }))).toBe('000007ff00000200');
    const s = await a.check(['read-capacity10', { lba: 1 }], { dataInLength: 8 });
    expect(s.senseKeySpecific).toEqual({ kind: 'field-pointer', inCdb: true, fieldPointer: 2 });
  });

  it('(16): LBPME and LBPRZ, RC BASIS 01b', async () => {
    const data = await a.good(['read-capacity16', { allocationLength: 32 }], { dataInLength: 32 });
    expect(hex(data)).toBe(h(`00000000000007ff 00000200 10 00 c000 ${'00'.repeat(16)}`));
    expect(parseReadCapacity16(data)).toMatchObject({ capacityBytes: 2048n * 512n, lbpme: 1, lbprz: 1 });
  });

  it('(16) reports 4096-byte blocks and the physical block exponent', async () => {
    const t = await createTarget({
      logicalUnits: [{ blockSize: 4096, capacityBlocks: 16, thinProvisioning: false }],
    });
    const i = new Initiator(t, 'x');
    await i.clearUnitAttentions();
    expect(hex(await i.good(['read-capacity16', { allocationLength: 16 }], { dataInLength: 16 }))).toBe(
      '000000000000000f0000100010000000',
    );
    await t.close();
  });
});

describe('MODE SENSE (SPC-6 6.13/6.14)', () => {
  // 0x01 AWRE ARRE; 0x08 WCE; 0x0a GLTSD; 0x1c DEXCPT — PS set on each (savable pages).
  const ALL_PAGES = h(
    `810a c0 ${'00'.repeat(9)}  8812 04 ${'00'.repeat(17)}  8a0a 02 ${'00'.repeat(9)}  9c0a 08 ${'00'.repeat(9)}`,
  );

  it('(6) all pages, current values, with a short block descriptor', async () => {
    const data = await a.good(['mode-sense6', { pageCode: 0x3f, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect(hex(data)).toBe(h(`43 00 10 08  00000800 00 000200`) + ALL_PAGES);
    expect(parseModeParameters(6, data).pages.map((p) => p.pageCode)).toEqual([1, 8, 10, 28]);
  });

  it('(10) with LLBAA returns a long block descriptor; changeable values mark WCE, RCD, QAM, D_SENSE, TAS, SWP', async () => {
    const data = await a.good(['mode-sense10', { llbaa: 1, pageCode: 0x0a, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect(hex(data)).toBe(
      h(`0022 00 10 01 00 0010  0000000000000800 00000000 00000200  8a0a 02 ${'00'.repeat(9)}`),
    );
    const mask6 = await a.good(['mode-sense6', { dbd: 1, pc: 1, pageCode: 0x08, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect(hex(mask6)).toBe(h(`17 00 10 00 8812 05 ${'00'.repeat(17)}`));
    const control = await a.good(['mode-sense6', { dbd: 1, pc: 1, pageCode: 0x0a, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect(hex(control)).toBe(h(`0f 00 10 00 8a0a 04 f0 08 40 ${'00'.repeat(6)}`));
  });

  it('an unknown page or subpage is INVALID FIELD IN CDB', async () => {
    const s = await a.check(['mode-sense6', { pageCode: 0x19, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect(hex(s.raw)).toBe('700005000000000a00000000240000cd0002');
    const t = await a.check(['mode-sense6', { pageCode: 0x08, subpageCode: 1, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect(t.senseKeySpecific).toEqual({ kind: 'field-pointer', inCdb: true, fieldPointer: 3 });
  });
});

describe('REPORT LUNS, REQUEST SENSE, REPORT SUPPORTED OPERATION CODES / TMFS', () => {
  it('REPORT LUNS uses peripheral addressing below 256 and flat space above', async () => {
    const data = await a.good(['report-luns', { allocationLength: 64 }], { dataInLength: 64 });
    expect(hex(data)).toBe(h('00000018 00000000 0000000000000000 0001000000000000 412c000000000000'));
    // Linux numbers a flat-space LUN by its two bytes (scsilun_to_int): 300 is 0x412c there.
    expect(parseReportLuns(data).luns.map((l) => l.linuxLun)).toEqual([0n, 1n, 0x412cn]);
    const s = await a.check(['report-luns', { selectReport: 3, allocationLength: 64 }], { dataInLength: 64 });
    expect(s.senseKeySpecific).toEqual({ kind: 'field-pointer', inCdb: true, fieldPointer: 2 });
  });

  it('REQUEST SENSE returns NO SENSE, fixed or descriptor', async () => {
    expect(hex(await a.good(['request-sense', { allocationLength: 252 }], { dataInLength: 252 }))).toBe(
      '700000000000000a00000000000000000000',
    );
    expect(
      hex(await a.good(['request-sense', { desc: 1, allocationLength: 252 }], { dataInLength: 252 })),
    ).toBe('7200000000000000');
  });

  it('REPORT SUPPORTED OPERATION CODES lists every command; one-command data carries the CDB usage map', async () => {
    const all = parseSupportedOperationCodes(
      await a.good(['report-opcodes', { reportingOptions: 0, allocationLength: 65535 }], {
        dataInLength: 65535,
      }),
    );
    expect(all.length).toBe(52);
    expect(all.filter((d) => d.servactv === 1).map((d) => [d.operationCode, d.serviceAction])).toEqual([
      [0x9e, 0x10],
      [0x9e, 0x12],
      [0xa3, 0x0c],
      [0xa3, 0x0d],
      [0x5e, 0],
      [0x5e, 1],
      [0x5e, 2],
      [0x5e, 3],
      [0x5f, 0],
      [0x5f, 1],
      [0x5f, 2],
      [0x5f, 3],
      [0x5f, 4],
      [0x5f, 5],
      [0x5f, 6],
    ]);
    const one = await a.good(
      ['report-opcodes', { reportingOptions: 1, requestedOperationCode: 0x28, allocationLength: 64 }],
      {
        dataInLength: 64,
      },
    );
    expect(hex(one)).toBe('0003000a28fcffffffff3fffff04');
    expect(parseOneCommandSupport(one)).toMatchObject({ support: 3, cdbSize: 10 });
    const rctd = await a.good(
      [
        'report-opcodes',
        {
          rctd: 1,
          reportingOptions: 2,
          requestedOperationCode: 0x9e,
          requestedServiceAction: 0x10,
          allocationLength: 64,
        },
      ],
      { dataInLength: 64 },
    );
    expect(hex(rctd)).toBe(h('0083 0010 9e10ffffffffffffffffffffffff0104 000a 0000 00000001 0000001e'));
    const missing = await a.good(
      ['report-opcodes', { reportingOptions: 1, requestedOperationCode: 0x04, allocationLength: 64 }],
      {
        dataInLength: 64,
      },
    );
    expect(hex(missing)).toBe('00010000');
    const bad = await a.check(
      ['report-opcodes', { reportingOptions: 1, requestedOperationCode: 0x9e, allocationLength: 64 }],
      {
        dataInLength: 64,
      },
    );
    expect(bad.senseKeySpecific).toEqual({ kind: 'field-pointer', inCdb: true, fieldPointer: 3 });
  });

  it('REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS: everything but CLEAR ACA', async () => {
    expect(hex(await a.good(['report-tmfs', { allocationLength: 4 }], { dataInLength: 4 }))).toBe('dc070000');
    expect(hex(await a.good(['report-tmfs', { repd: 1, allocationLength: 16 }], { dataInLength: 16 }))).toBe(
      `dc07000c${'00'.repeat(12)}`,
    );
  });
});

describe('GET LBA STATUS (SBC-5 5.8)', () => {
  it('describes mapped and deallocated runs', async () => {
    await a.good(['write16', { lba: 4n, transferLength: 2 }], { dataOut: new Uint8Array(1024).fill(1) });
    const data = await a.good(['get-lba-status', { lba: 0n, allocationLength: 64 }], { dataInLength: 64 });
    expect(hex(data)).toBe(
      h(`00000034 00000000
         0000000000000000 00000004 01 000000
         0000000000000004 00000002 00 000000
         0000000000000006 000007fa 01 000000`),
    );
    expect(ScsiStatus.GOOD).toBe(0);
  });
});
