import { buildCdb, DeviceError, InvalidFieldError, MalformedDataError, SenseKey } from '@sgv4/core';
import { describe, expect, it } from 'vitest';
import {
  compareAndWriteCommand,
  Device,
  type DeviceResponse,
  inquiryCommand,
  modeSelectCommand,
  modeSenseCommand,
  PersistentReserveOutAction,
  peripheralTypeName,
  persistentReserveOutCommand,
  ReservationType,
  readCapacity10Command,
  readCapacity16Command,
  readCommand,
  readKeysCommand,
  readReservationCommand,
  readWriteCdb,
  reportLunsCommand,
  reportSupportedOpcodesCommand,
  requestSenseCommand,
  startStopCommand,
  synchronizeCacheCommand,
  testUnitReadyCommand,
  toDeviceIdentifier,
  unmapCommand,
  verifyCommand,
  vpdBytesCommand,
  vpdPageCommand,
  writeCommand,
  writeSameCommand,
} from '../../src/index.js';
import { checkCondition, GOOD, ScriptedTransport } from '../support/scripted-transport.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const none = undefined as unknown as DeviceResponse;

describe('command objects: exact CDB bytes (SPC-6, SBC-5)', () => {
  const buf = new Uint8Array(4096);
  const cases: [string, Uint8Array, string][] = [
    ['TEST UNIT READY', testUnitReadyCommand().cdb, '000000000000'],
    ['INQUIRY', inquiryCommand().cdb, '120000006000'],
    ['INQUIRY VPD 0x83', vpdBytesCommand(0x83).cdb, '12018300fc00'],
    ['READ CAPACITY(10)', readCapacity10Command().cdb, '25000000000000000000'],
    ['READ CAPACITY(16)', readCapacity16Command().cdb, '9e100000000000000000000000200000'],
    ['READ(10)', readCommand(0x1234n, 8, buf).cdb, '28000000123400000800'],
    ['READ(10) FUA', readCommand(0n, 1, buf, { fua: true }).cdb, '28080000000000000100'],
    ['READ(16) past 2^32', readCommand(0x1_0000_0000n, 8, buf).cdb, '88000000000100000000000000080000'],
    ['READ(16) for 65536 blocks', readCommand(0n, 65536, buf).cdb, '88000000000000000000000100000000'],
    ['WRITE(10)', writeCommand(7n, 1, buf).cdb, '2a000000000700000100'],
    ['VERIFY(10) BYTCHK', verifyCommand(1n, 2, buf).cdb, '2f020000000100000200'],
    ['WRITE SAME(10) UNMAP', writeSameCommand(16n, 32, buf, { unmap: true }).cdb, '41080000001000002000'],
    [
      'COMPARE AND WRITE',
      compareAndWriteCommand(5n, 1, new Uint8Array(512), new Uint8Array(512)).cdb,
      '89000000000000000005000000010000',
    ],
    ['SYNCHRONIZE CACHE(10)', synchronizeCacheCommand().cdb, '35000000000000000000'],
    ['UNMAP', unmapCommand([{ lba: 8n, numberOfBlocks: 8 }]).cdb, '42000000000000001800'],
    ['REPORT LUNS', reportLunsCommand().cdb, 'a0000000000000000808000000'.slice(0, 24)],
    [
      'MODE SENSE(10) caching, changeable',
      modeSenseCommand({ page: 8, pageControl: 'changeable' }).cdb,
      '5a004800000000100000',
    ],
    ['MODE SENSE(6)', modeSenseCommand({ variant: 6 }).cdb, '1a003f00fc00'],
    ['REQUEST SENSE', requestSenseCommand().cdb, '03000000fc00'],
    ['START STOP UNIT start', startStopCommand({ start: true }).cdb, '1b0000000100'],
    [
      'REPORT SUPPORTED OPERATION CODES',
      reportSupportedOpcodesCommand().cdb,
      'a30c0000000000002000 0000'.replace(' ', ''),
    ],
    ['PERSISTENT RESERVE IN READ KEYS', readKeysCommand().cdb, '5e000000000000020800'],
    ['PERSISTENT RESERVE IN READ RESERVATION', readReservationCommand().cdb, '5e010000000000001800'],
    [
      'PERSISTENT RESERVE OUT RESERVE',
      persistentReserveOutCommand(PersistentReserveOutAction.RESERVE, {
        key: 1n,
        type: ReservationType.WRITE_EXCLUSIVE,
      }).cdb,
      '5f010100000000001800',
    ],
  ];
  it.each(cases)('%s', (_name, cdb, expected) => {
    expect(hex(cdb)).toBe(expected);
  });

  it('the data-path READ/WRITE encoder is byte-equal to the core tables (buildCdb) over random ranges', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 2000; i++) {
      const lba = BigInt(rnd()) * (i % 3 === 0 ? 4096n : 1n) + BigInt(rnd() & 0xff);
      const blocks = 1 + (i % 4 === 0 ? rnd() : rnd() & 0xffff);
      const flags = { fua: (i & 1) === 1, dpo: (i & 2) === 2 };
      for (const write of [false, true]) {
        const ten = lba + BigInt(blocks) - 1n <= 0xffff_ffffn && blocks <= 0xffff;
        const key = `${write ? 'write' : 'read'}${ten ? '10' : '16'}`;
        const expected = buildCdb(key, {
          lba: ten ? Number(lba) : lba,
          transferLength: blocks,
          fua: flags.fua,
          dpo: flags.dpo,
        });
        expect(hex(readWriteCdb(write, lba, blocks, flags)), `${key} ${lba} ${blocks}`).toBe(hex(expected));
      }
    }
  });

  it('builds the data-out of COMPARE AND WRITE, MODE SELECT, UNMAP and PERSISTENT RESERVE OUT', () => {
    const cw = compareAndWriteCommand(0n, 1, new Uint8Array(512).fill(1), new Uint8Array(512).fill(2));
    expect(cw.dataOut?.length).toBe(1024);
    expect([cw.dataOut?.[0], cw.dataOut?.[512]]).toEqual([1, 2]);
    const ms = modeSelectCommand({ caching: { wce: 1 } });
    expect(hex(ms.cdb)).toBe(`55100000000000${(ms.dataOut?.length ?? 0).toString(16).padStart(4, '0')}00`);
    expect(hex(unmapCommand([{ lba: 8n, numberOfBlocks: 8 }]).dataOut as Uint8Array)).toBe(
      '0016001000000000' + '0000000000000008' + '00000008' + '00000000',
    );
    const pr = persistentReserveOutCommand(PersistentReserveOutAction.REGISTER, {
      serviceActionKey: 0xabcdn,
      persistThroughPowerLoss: true,
    });
    expect(hex(pr.dataOut as Uint8Array)).toBe(
      '0000000000000000' + '000000000000abcd' + '00000000' + '01000000',
    );
  });

  it('refuses bad fields with InvalidFieldError naming them', () => {
    const buf = new Uint8Array(512);
    expect(() => readCommand(-1n, 1, buf)).toThrow(InvalidFieldError);
    expect(() => readCommand(0n, 0, buf)).toThrow(/blocks/);
    expect(() => compareAndWriteCommand(0n, 256, buf, buf)).toThrow(/blocks/);
    expect(() => compareAndWriteCommand(0n, 1, buf, new Uint8Array(10))).toThrow(/write/);
    expect(() => inquiryCommand(10)).toThrow(/allocationLength/);
    expect(() => vpdPageCommand(0x86)).toThrow(/page/);
    expect(() => persistentReserveOutCommand(9 as PersistentReserveOutAction)).toThrow(/action/);
    expect(() => unmapCommand([])).toThrow(/ranges/);
    expect(() => modeSenseCommand({ page: 64 })).toThrow(/page/);
    expect(() => startStopCommand({ start: true, powerCondition: 16 })).toThrow(/powerCondition/);
  });
});

describe('command objects: parsing responses', () => {
  it('standard INQUIRY (scsi_debug 0191 bytes)', () => {
    const data = bytes(
      '00 00 07 02 5b 00 00 02 4c 69 6e 75 78 20 20 20 73 63 73 69 5f 64 65 62 75 67 20 20 20 20 20 20 30 31 39 31',
    );
    const inq = inquiryCommand().parse(data, none);
    expect(inq).toMatchObject({
      peripheralQualifier: 0,
      peripheralType: 0,
      peripheralTypeName: 'disk',
      version: 7,
      responseDataFormat: 2,
      cmdque: true,
      vendor: 'Linux',
      product: 'scsi_debug',
      revision: '0191',
    });
    expect(() => inquiryCommand().parse(data.subarray(0, 20), none)).toThrow(MalformedDataError);
  });

  it('READ CAPACITY (10) and (16)', () => {
    expect(readCapacity10Command().parse(bytes('0001ffff 00000200'), none)).toMatchObject({
      lastLba: 131071n,
      blocks: 131072n,
      blockSize: 512,
      bytes: 67108864n,
    });
    const c16 = readCapacity16Command().parse(
      bytes(`000000000001ffff 00001000 01 03 c000 ${'00'.repeat(16)}`),
      none,
    );
    expect(c16).toMatchObject({
      blockSize: 4096,
      protectionEnabled: true,
      logicalPerPhysicalExponent: 3,
      thinProvisioned: true,
      unmappedReadsZero: true,
    });
  });

  it('refuses a VPD answer that is really standard INQUIRY data (sg3_utils issue #34)', () => {
    expect(() => vpdBytesCommand(0x80).parse(bytes('00 00 07 02 5b 00 00 02'), none)).toThrow(
      /standard INQUIRY response/,
    );
  });

  it('decodes device identifiers as sg_vpd names them', () => {
    const page = vpdPageCommand(0x83).parse(
      bytes('00 83 00 18  01 03 00 08 33 33 33 30 00 00 07 d0  63 a8 00 08 6e 61 61 2e 33 32 00 00'),
      none,
    );
    if (page.pageCode !== 0x83) throw new Error('not 0x83');
    const ids = page.designators.map(toDeviceIdentifier);
    expect(ids[0]).toMatchObject({
      association: 'logical unit',
      typeName: 'NAA',
      codeSet: 'binary',
      value: '33333330000007d0',
    });
    expect(ids[1]).toMatchObject({
      association: 'target device',
      typeName: 'SCSI name string',
      codeSet: 'utf-8',
      protocolIdentifier: 6,
      value: 'naa.32',
    });
  });

  it('READ KEYS and READ RESERVATION', () => {
    expect(
      readKeysCommand().parse(bytes('00000005 00000010 0000000000000001 00000000000000ab'), none),
    ).toEqual({ generation: 5, keys: [1n, 0xabn] });
    expect(readReservationCommand().parse(bytes('00000002 00000000'), none)).toEqual({ generation: 2 });
    expect(
      readReservationCommand().parse(bytes(`00000002 00000010 00000000000000ab 00000000 00 01 0000`), none),
    ).toEqual({
      generation: 2,
      reservation: { key: 0xabn, scope: 0, type: 1 },
    });
  });

  it('names peripheral device types as sg3_utils 1.46 does', () => {
    expect([0, 5, 0x0d, 0x1f].map(peripheralTypeName)).toEqual([
      'disk',
      'cd/dvd',
      'enclosure services device',
      'unknown or no device type',
    ]);
  });
});

describe('Device helpers', () => {
  it('readCapacity falls back to READ CAPACITY(16) when the LBA does not fit 32 bits', async () => {
    const t = new ScriptedTransport({
      responder: (r) => {
        const out = r.dataIn as Uint8Array;
        if (r.cdb[0] === 0x25) out.set(bytes('ffffffff 00000200'));
        else out.set(bytes('0000000100000000 00000200'));
        return GOOD;
      },
    });
    const d = await Device.attach(t, { identify: false });
    const c = await d.readCapacity();
    expect(c).toMatchObject({ source: 'READ CAPACITY(16)', blocks: 0x1_0000_0001n });
    expect(d.capacity).toBe(c);
    await d.close();
  });

  it('a command the device does not support is a DeviceError with INVALID COMMAND OPERATION CODE', async () => {
    const d = await Device.attach(
      new ScriptedTransport({ responder: () => checkCondition(SenseKey.ILLEGAL_REQUEST, 0x20, 0) }),
      { identify: false },
    );
    const error = (await d.persistentReserveIn('read-keys').catch((e: unknown) => e)) as DeviceError;
    expect(error).toBeInstanceOf(DeviceError);
    expect(error.exitStatus).toBe(9);
    await d.close();
  });

  it('identify reads INQUIRY and VPD 0x00, 0x80, 0x83', async () => {
    const seen: string[] = [];
    const t = new ScriptedTransport({
      responder: (r) => {
        const out = r.dataIn as Uint8Array;
        seen.push(hex(r.cdb.subarray(0, 3)));
        if (r.cdb[1] === 0)
          out.set(
            bytes(
              '00 00 07 02 5b 00 00 02 4c 69 6e 75 78 20 20 20 73 63 73 69 5f 64 65 62 75 67 20 20 20 20 20 20 30 31 39 31',
            ),
          );
        else if (r.cdb[2] === 0x00) out.set(bytes('00 00 00 03 00 80 83'));
        else if (r.cdb[2] === 0x80) out.set(bytes('00 80 00 04 32 30 30 30'));
        else out.set(bytes('00 83 00 0c 01 03 00 08 33 33 33 30 00 00 07 d0'));
        return GOOD;
      },
    });
    const d = await Device.attach(t);
    expect(seen).toEqual(['120000', '120100', '120180', '120183']);
    expect(d.identity).toMatchObject({
      vendor: 'Linux',
      product: 'scsi_debug',
      serial: '2000',
      vpdPages: [0, 0x80, 0x83],
    });
    expect(d.identity.identifiers[0]?.value).toBe('33333330000007d0');
    await d.close();
  });
});
