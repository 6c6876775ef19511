import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CommandWindow,
  IscsiProtocolError,
  parseSendTargets,
  parseTargetAddress,
  planSequence,
  planUnsolicited,
  serialAdd,
  serialLessOrEqual,
  serialLessThan,
  tasksEndedBy,
} from '../../src/index.js';

describe('serial number arithmetic (RFC 1982)', () => {
  it('orders across the 2^32 wrap', () => {
    expect(serialLessThan(0xffff_fffe, 1)).toBe(true);
    expect(serialLessThan(1, 0xffff_fffe)).toBe(false);
    expect(serialLessOrEqual(5, 5)).toBe(true);
    expect(serialAdd(0xffff_ffff, 2)).toBe(1);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 0x7fffffff }), (a, n) =>
        serialLessThan(a, serialAdd(a, n)),
      ),
    );
  });
});

describe('CommandWindow (RFC 7143 §4.2.2.1)', () => {
  it('gives CmdSNs up to MaxCmdSN, then none', () => {
    const w = new CommandWindow(0xffff_fffe, 0xffff_fffe, 1);
    expect(w.room).toBe(4);
    expect([w.take(), w.take(), w.take(), w.take(), w.take()]).toEqual([
      0xffff_fffe,
      0xffff_ffff,
      0,
      1,
      undefined,
    ]);
  });

  it('a zero window (MaxCmdSN = ExpCmdSN - 1) is legal; invalid and backwards updates are ignored', () => {
    const w = new CommandWindow(10, 10, 9);
    expect(w.room).toBe(0);
    expect(w.update(10, 8)).toBe(false); // MaxCmdSN < ExpCmdSN - 1
    expect(w.update(10, 12)).toBe(true);
    expect(w.room).toBe(3);
    expect(w.update(10, 11)).toBe(false); // backwards
    expect(w.maxCmdSN).toBe(12);
  });
});

describe('Data-Out planning (RFC 7143 §13.10-13.14)', () => {
  const limits = {
    immediateData: true,
    initialR2T: false,
    firstBurstLength: 65536,
    peerMaxRecvDataSegmentLength: 8192,
  };

  it('immediate data, then unsolicited Data-Out up to FirstBurstLength, the rest solicited', () => {
    const plan = planUnsolicited(100_000, limits);
    expect(plan.immediate).toBe(8192);
    expect(plan.dataOut.map((s) => [s.offset, s.length, s.dataSN, s.final])).toEqual([
      [8192, 8192, 0, false],
      [16384, 8192, 1, false],
      [24576, 8192, 2, false],
      [32768, 8192, 3, false],
      [40960, 8192, 4, false],
      [49152, 8192, 5, false],
      [57344, 8192, 6, true],
    ]);
    expect(plan.solicited).toBe(100_000 - 65536);
  });

  it('InitialR2T=Yes allows only immediate data; ImmediateData=No none of it', () => {
    expect(planUnsolicited(20_000, { ...limits, initialR2T: true })).toMatchObject({
      immediate: 8192,
      dataOut: [],
      solicited: 11_808,
    });
    expect(planUnsolicited(20_000, { ...limits, initialR2T: true, immediateData: false })).toMatchObject({
      immediate: 0,
      solicited: 20_000,
    });
  });

  it('property: unsolicited + solicited cover the write exactly, no segment above the limit, DataSN from 0', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1 << 22 }),
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 512, max: 1 << 20 }),
        fc.integer({ min: 512, max: 1 << 18 }),
        (total, immediateData, initialR2T, firstBurstLength, peer) => {
          const plan = planUnsolicited(total, {
            immediateData,
            initialR2T,
            firstBurstLength,
            peerMaxRecvDataSegmentLength: peer,
          });
          const unsolicited = plan.immediate + plan.dataOut.reduce((n, s) => n + s.length, 0);
          expect(unsolicited + plan.solicited).toBe(total);
          expect(unsolicited).toBeLessThanOrEqual(firstBurstLength);
          expect(plan.immediate).toBeLessThanOrEqual(peer);
          plan.dataOut.forEach((s, i) => {
            expect(s.length).toBeLessThanOrEqual(peer);
            expect(s.dataSN).toBe(i);
            expect(s.final).toBe(i === plan.dataOut.length - 1);
          });
        },
      ),
    );
    expect(planSequence(100, 0, 10)).toEqual([]);
  });
});

describe('TargetAddress and SendTargets (RFC 7143 §13.8, Appendix C)', () => {
  it('parses host[:port][,tag], IPv6 in brackets', () => {
    expect(parseTargetAddress('10.1.2.3:3261,2')).toEqual({
      host: '10.1.2.3',
      port: 3261,
      portalGroupTag: 2,
    });
    expect(parseTargetAddress('[fe80::1]:3260,1')).toEqual({
      host: 'fe80::1',
      port: 3260,
      portalGroupTag: 1,
    });
    expect(parseTargetAddress('[::1]')).toEqual({ host: '::1', port: 3260 });
    expect(parseTargetAddress('storage.example.com')).toEqual({ host: 'storage.example.com', port: 3260 });
    for (const bad of ['', ':3260', 'h:0', 'h:x', 'h,70000', '[::1'])
      expect(() => parseTargetAddress(bad)).toThrow(IscsiProtocolError);
  });

  it('groups the portals under their TargetName', () => {
    expect(
      parseSendTargets([
        ['TargetName', 'iqn.a'],
        ['TargetAddress', '1.1.1.1:3260,1'],
        ['TargetAddress', '2.2.2.2:3260,1'],
        ['TargetName', 'iqn.b'],
      ]),
    ).toEqual([
      {
        targetName: 'iqn.a',
        portals: [
          { host: '1.1.1.1', port: 3260, portalGroupTag: 1 },
          { host: '2.2.2.2', port: 3260, portalGroupTag: 1 },
        ],
      },
      { targetName: 'iqn.b', portals: [] },
    ]);
    expect(() => parseSendTargets([['TargetAddress', '1.1.1.1']])).toThrow(IscsiProtocolError);
  });
});

describe('which tasks a TMF ends (SAM-6 7, RFC 7143 §4.2.3.3)', () => {
  const tasks = [
    { itt: 1, lunField: 1n, sent: true },
    { itt: 2, lunField: 2n, sent: true },
    { itt: 3, lunField: 1n, sent: false },
  ];
  it('by function', () => {
    expect(tasksEndedBy('ABORT_TASK', 1n, 2, tasks).map((t) => t.itt)).toEqual([2]);
    expect(tasksEndedBy('LOGICAL_UNIT_RESET', 1n, undefined, tasks).map((t) => t.itt)).toEqual([1]);
    expect(tasksEndedBy('ABORT_TASK_SET', 2n, undefined, tasks).map((t) => t.itt)).toEqual([2]);
    expect(tasksEndedBy('TARGET_COLD_RESET', 0n, undefined, tasks).map((t) => t.itt)).toEqual([1, 2]);
    expect(tasksEndedBy('CLEAR_ACA', 1n, undefined, tasks)).toEqual([]);
  });
});
