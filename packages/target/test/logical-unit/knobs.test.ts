/**
 * Latency and fault knobs at creation and at run time, unit states (START STOP UNIT, PREVENT
 * ALLOW, NOT READY, write protection), MODE SELECT effects, unit attentions and REQUEST SENSE.
 */
import { ScsiStatus, SenseKey } from '@sgv4/core';
import { describe, expect, it } from 'vitest';
import { createTarget, type LogicalUnitOptions } from '../../src/index.js';
import { hex, Initiator, pattern, setModePage } from '../support/initiator.js';

async function open(options: LogicalUnitOptions = {}) {
  const target = await createTarget({ logicalUnits: [{ capacityBlocks: 256, ...options }] });
  const a = new Initiator(target, 'iqn.a');
  const b = new Initiator(target, 'iqn.b');
  await a.clearUnitAttentions();
  await b.clearUnitAttentions();
  return { target, a, b };
}

const read = (lba: number) =>
  ['read10', { lba, transferLength: 1 }] as ['read10', { lba: number; transferLength: number }];

describe('latency', () => {
  it('delays each command by at least the configured latency, sub-millisecond included, and overlaps tasks', async () => {
    const { target, a } = await open({ latency: { nanoseconds: 300_000 } });
    for (const ns of [300_000, 3_000_000]) {
      await target.configure(0, { latency: { nanoseconds: ns } });
      const start = process.hrtime.bigint();
      await a.good(read(0), { dataInLength: 512 });
      expect(Number(process.hrtime.bigint() - start)).toBeGreaterThanOrEqual(ns);
    }
    // Tasks overlap: the last of eight 3 ms commands starts before the first one completes.
    const events: string[] = [];
    target.on('task-started', (e) => events.push(`start ${e.sequence}`));
    target.on('task-completed', (e) => events.push(`end ${e.sequence}`));
    await Promise.all(Array.from({ length: 8 }, (_, i) => a.good(read(i), { dataInLength: 512 })));
    expect(events.slice(0, 8).every((e) => e.startsWith('start'))).toBe(true);
    await target.close();
  });
});

describe('faults', () => {
  it('medium errors at given LBAs: 11/00 on read, 0C/00 on write, INFORMATION = first bad LBA', async () => {
    const { target, a } = await open({
      faults: {
        mediumErrors: [
          { lba: 100, count: 4 },
          { lba: 200, on: 'write' },
        ],
      },
    });
    const s = await a.check(['read10', { lba: 98, transferLength: 8 }], { dataInLength: 4096 });
    expect(hex(s.raw)).toBe('f00003000000640a00000000110000000000');
    await a.good(read(99), { dataInLength: 512 });
    await a.good(['write10', { lba: 100, transferLength: 1 }], { dataOut: new Uint8Array(512) });
    await a.good(read(200), { dataInLength: 512 });
    const w = await a.check(['write16', { lba: 199n, transferLength: 2 }], { dataOut: new Uint8Array(1024) });
    expect([w.senseKey, w.asc, w.information]).toEqual([SenseKey.MEDIUM_ERROR, 0x0c, 200n]);
    await target.configure(0, { faults: {} });
    await a.good(['read10', { lba: 98, transferLength: 8 }], { dataInLength: 4096 });
    await target.close();
  });

  it('every n-th command: ABORTED COMMAND 4B/03, or BUSY', async () => {
    const { target, a } = await open();
    await target.configure(0, { faults: { everyNth: { n: 2, action: 'aborted-command' } } });
    const statuses: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await a.run(read(i), { dataInLength: 512 });
      statuses.push(r.status === ScsiStatus.GOOD ? 'good' : hex(r.sense.subarray(12, 14)));
    }
    expect(statuses.filter((s) => s === '4b03')).toHaveLength(2);
    await target.configure(0, { faults: { everyNth: { n: 1, action: 'busy' } } });
    expect((await a.run(read(0), { dataInLength: 512 })).status).toBe(ScsiStatus.BUSY);
    await target.close();
  });

  it('NOT READY states: becoming ready, start required, no medium; REQUEST SENSE reports them', async () => {
    const { target, a } = await open();
    for (const [state, code] of [
      ['becoming-ready', '0401'],
      ['start-required', '0402'],
      ['no-medium', '3a00'],
    ] as const) {
      await target.configure(0, { faults: { notReady: state } });
      const s = await a.check(['tur']);
      expect([s.senseKeyName, hex(s.raw.subarray(12, 14))]).toEqual(['Not Ready', code]);
      expect((await a.check(read(0), { dataInLength: 512 })).senseKey).toBe(SenseKey.NOT_READY);
      await a.good(['inquiry', { allocationLength: 36 }], { dataInLength: 36 }); // not a media command
      const rs = await a.good(['request-sense', { allocationLength: 18 }], { dataInLength: 18 });
      expect(hex(rs.subarray(12, 14))).toBe(code);
    }
    await target.configure(0, { faults: { notReady: false } });
    await a.good(['tur']);
    await target.close();
  });

  it('capacity change at run time: UNIT ATTENTION 2A/09, then READ CAPACITY shows it', async () => {
    const { target, a, b } = await open();
    await target.configure(0, { capacityBlocks: 512 });
    for (const i of [a, b]) expect(hex((await i.check(['tur'])).raw.subarray(12, 14))).toBe('2a09');
    expect(hex(await a.good(['read-capacity10'], { dataInLength: 8 }))).toBe('000001ff00000200');
    await target.close();
  });

  it('hardware write protect: DATA PROTECT 27/00 on writes, WP in MODE SENSE, reads still work', async () => {
    const { target, a } = await open({ writeProtected: true });
    const s = await a.check(['write10', { lba: 0, transferLength: 1 }], { dataOut: new Uint8Array(512) });
    expect([s.senseKeyName, s.asc, s.ascq]).toEqual(['Data Protect', 0x27, 0x00]);
    expect((await a.check(['unmap', { parameterListLength: 0 }])).senseKeyName).toBe('Data Protect');
    const ms = await a.good(['mode-sense6', { dbd: 1, pageCode: 0x08, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect(ms[2]).toBe(0x90);
    await a.good(read(0), { dataInLength: 512 });
    await a.good(['sync-cache10']);
    await target.close();
  });
});

describe('MODE SELECT effects', () => {
  it('SWP makes writes fail with 27/02 (ModeSense6.Control-SWP); D_SENSE switches to descriptor sense', async () => {
    const { target, a, b } = await open();
    await setModePage(a, 'control', { swp: 1 });
    expect(hex((await b.check(['tur'])).raw.subarray(12, 14))).toBe('2a01'); // MODE PARAMETERS CHANGED for b
    expect(await a.clearUnitAttentions()).toBe(0); // not for a
    const s = await a.check(['write10', { lba: 0, transferLength: 1 }], { dataOut: new Uint8Array(512) });
    expect([s.senseKeyName, s.asc, s.ascq]).toEqual(['Data Protect', 0x27, 0x02]);
    await setModePage(a, 'control', { swp: 0, dSense: 1 });
    const d = await a.check(['read16', { lba: 0xffff_ffff_ffff_ffffn, transferLength: 1 }], {
      dataInLength: 512,
    });
    expect([d.format, d.asc]).toEqual(['descriptor', 0x21]);
    expect(hex(d.raw)).toBe('7205210000000000');
    await target.close();
  });

  it('refuses changes to fields that are not changeable, bad page lengths and unknown pages, pointing at the byte', async () => {
    const { target, a } = await open();
    const current = await a.good(['mode-sense6', { dbd: 1, pageCode: 0x0a, allocationLength: 255 }], {
      dataInLength: 255,
    });
    const page = current.slice(4);
    page[0] = 0x0a;
    const send = (p: Uint8Array) => {
      const list = new Uint8Array(4 + p.length);
      list.set(p, 4);
      return a.check(['mode-select6', { pf: 1, parameterListLength: list.length }], { dataOut: list });
    };
    const qerr = page.slice();
    qerr[3] = (qerr[3] ?? 0) | 0x02; // QERR is not changeable
    expect((await send(qerr)).senseKeySpecific).toEqual({
      kind: 'field-pointer',
      inCdb: false,
      fieldPointer: 7,
      bitPointer: 1,
    });
    const len = page.slice();
    len[1] = 0x08;
    expect((await send(len.subarray(0, 10))).senseKeySpecific).toMatchObject({ fieldPointer: 5 });
    const unknown = page.slice();
    unknown[0] = 0x19;
    expect((await send(unknown)).senseKeySpecific).toMatchObject({ fieldPointer: 4, bitPointer: 5 });
    const bd = new Uint8Array(12);
    bd[3] = 8;
    bd.set([0, 0, 1, 0, 0, 0, 0x10, 0], 4); // block length 4096 on a 512-byte LU
    const r = await a.check(['mode-select6', { pf: 1, parameterListLength: 12 }], { dataOut: bd });
    expect(r.senseKeySpecific).toMatchObject({ inCdb: false, fieldPointer: 9 });
    await target.close();
  });

  it('saved pages survive a LOGICAL UNIT RESET, unsaved ones do not; WCE = 0 writes through', async () => {
    const { target, a } = await open();
    await setModePage(a, 'caching', { wce: 0 }, { save: true });
    await setModePage(a, 'control', { dSense: 1 });
    await target.manage(a.nexus, { function: 'LOGICAL_UNIT_RESET', lun: 0 });
    await a.clearUnitAttentions();
    const caching = await a.good(['mode-sense6', { dbd: 1, pageCode: 0x08, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect((caching[6] ?? 0) & 0x04).toBe(0);
    const control = await a.good(['mode-sense6', { dbd: 1, pageCode: 0x0a, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect((control[6] ?? 0) & 0x04).toBe(0);
    const saved = await a.good(['mode-sense6', { dbd: 1, pc: 3, pageCode: 0x08, allocationLength: 255 }], {
      dataInLength: 255,
    });
    expect((saved[6] ?? 0) & 0x04).toBe(0);
    await a.good(['write10', { lba: 0, transferLength: 1 }], { dataOut: pattern(512, 1) });
    await target.close();
  });
});

describe('unit state commands', () => {
  it('START STOP UNIT stops and starts; PREVENT blocks an eject (53/02) until ALLOW', async () => {
    const { target, a, b } = await open();
    await a.good(['start-stop', { start: 0 }]);
    expect(hex((await a.check(['tur'])).raw.subarray(12, 14))).toBe('0402');
    await a.good(['start-stop', { start: 1 }]);
    await a.good(['tur']);
    await b.good(['prevent-allow', { prevent: 1 }]);
    const s = await a.check(['start-stop', { start: 0, loej: 1 }]);
    expect([s.asc, s.ascq]).toEqual([0x53, 0x02]);
    expect((await a.check(['prevent-allow', { prevent: 2 }])).asc).toBe(0x24);
    await b.good(['prevent-allow', { prevent: 0 }]);
    await a.good(['start-stop', { start: 0, loej: 1 }]);
    await a.good(['start-stop', { powerCondition: 2 }]); // IDLE: accepted, the unit runs again
    await a.good(['tur']);
    await target.close();
  });

  it('REQUEST SENSE returns and clears a pending unit attention (GOOD status); INQUIRY never reports one', async () => {
    const target = await createTarget({ logicalUnits: [{ capacityBlocks: 8 }] });
    const a = new Initiator(target, 'iqn.a');
    await a.good(['inquiry', { allocationLength: 36 }], { dataInLength: 36 });
    const rs = await a.good(['request-sense', { desc: 1, allocationLength: 252 }], { dataInLength: 252 });
    expect(hex(rs)).toBe('7206290000000000');
    await a.good(['tur']);
    await target.close();
  });

  it('REPORT LUNS clears REPORTED LUNS DATA HAS CHANGED after LUNs are added or removed', async () => {
    const { target, a } = await open();
    await target.addLogicalUnit({ lun: 4, capacityBlocks: 8 });
    const luns = await a.good(['report-luns', { allocationLength: 64 }], { dataInLength: 64 });
    expect(hex(luns.subarray(0, 4))).toBe('00000010');
    await a.good(['tur']); // cleared by REPORT LUNS
    await a.clearUnitAttentions(4); // the new LU's power-on unit attention
    await a.good(['tur'], { lun: 4 });
    await target.removeLogicalUnit(4);
    expect(hex((await a.check(['tur'])).raw.subarray(12, 14))).toBe('3f0e');
    expect((await a.check(['tur'], { lun: 4 })).asc).toBe(0x25);
    await target.close();
  });
});
