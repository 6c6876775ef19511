/**
 * Reservations between several initiators: SPC-2 RESERVE/RELEASE, persistent reservations of
 * every type (SPC-6 5.14), and the unit attentions they send — to the I_T nexuses SPC-6 names,
 * including the cases tgt gets wrong (libiscsi `Reserve6.2Initiators`,
 * `ProutReserve.Ownership*`, `PrinServiceactionRange`).
 */
import {
  buildCdb,
  decodeTable,
  encodeTable,
  PR_CAPABILITIES,
  PR_FULL_STATUS_DESCRIPTOR,
  PR_OUT_PARAMETER_LIST,
  ScsiStatus,
  TaskManagementFunction,
} from '@sgv4/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTarget, type ScsiTarget } from '../../src/index.js';
import { hex, Initiator, tick } from '../support/initiator.js';

const WE = 1;
const EA = 3;
const WE_RO = 5;
const EA_RO = 6;
const WE_AR = 7;
const EA_AR = 8;

const PROUT: Record<string, string> = {
  register: 'prout-register',
  reserve: 'prout-reserve',
  release: 'prout-release',
  clear: 'prout-clear',
  preempt: 'prout-preempt',
  'preempt-and-abort': 'prout-preempt-and-abort',
  ignore: 'prout-register-and-ignore',
};

function params(key: bigint, saKey = 0n, extra: Record<string, number> = {}): Uint8Array {
  return encodeTable(PR_OUT_PARAMETER_LIST, {
    reservationKey: key,
    serviceActionReservationKey: saKey,
    ...extra,
  });
}

async function prout(i: Initiator, sa: string, key: bigint, saKey = 0n, type = 0) {
  return i.run([PROUT[sa] as string, { type, parameterListLength: 24 }], { dataOut: params(key, saKey) });
}

async function prin(
  i: Initiator,
  sa: 'prin-read-keys' | 'prin-read-reservation' | 'prin-report-capabilities' | 'prin-read-full-status',
) {
  return i.good([sa, { allocationLength: 1024 }], { dataInLength: 1024 });
}

function reservation(data: Uint8Array): { key: bigint; type: number } | undefined {
  if (data[7] === 0) return undefined;
  return { key: new DataView(data.buffer, data.byteOffset).getBigUint64(8), type: (data[21] ?? 0) & 0x0f };
}

async function uaOf(i: Initiator): Promise<string | undefined> {
  const r = await i.run(['tur']);
  if (r.status === ScsiStatus.GOOD) return undefined;
  return hex(r.sense.subarray(12, 14));
}

let target: ScsiTarget;
let a: Initiator;
let b: Initiator;
let c: Initiator;

beforeEach(async () => {
  target = await createTarget({
    protocol: 'iscsi',
    name: 'iqn.2024-01.org.sgv4:t',
    logicalUnits: [{ capacityBlocks: 128 }],
  });
  a = new Initiator(target, 'iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test,i,0x23d000000000');
  b = new Initiator(target, 'iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test-2,i,0x23d000000001');
  c = new Initiator(target, 'iqn.c');
  for (const i of [a, b, c]) await i.clearUnitAttentions();
  return () => target.close();
});

describe('SPC-2 RESERVE / RELEASE', () => {
  it('conflicts every command of another initiator but INQUIRY, REQUEST SENSE, REPORT LUNS, RELEASE (Reserve6.2Initiators)', async () => {
    await a.good(['reserve6']);
    await a.good(['reserve6']); // again from the holder: GOOD
    expect((await b.run(['reserve6'])).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    await b.good(['release6']); // not the holder: GOOD, nothing released
    await a.good(['mode-sense6', { pageCode: 0x3f, allocationLength: 255 }], { dataInLength: 255 });
    for (const cdb of [
      buildCdb('mode-sense6', { pageCode: 0x3f, allocationLength: 255 }),
      buildCdb('tur'),
      buildCdb('read10', { lba: 0, transferLength: 1 }),
      buildCdb('read-capacity10'),
      buildCdb('prin-read-keys', { allocationLength: 8 }),
    ]) {
      expect((await b.run(cdb, { dataInLength: 255 })).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    }
    await b.good(['inquiry', { allocationLength: 36 }], { dataInLength: 36 });
    await b.good(['request-sense', { allocationLength: 18 }], { dataInLength: 18 });
    await b.good(['report-luns', { allocationLength: 16 }], { dataInLength: 16 });
    await a.good(['release10']);
    await b.good(['reserve10']);
    await b.good(['release6']);
  });

  it('a LOGICAL UNIT RESET releases it (Reserve6.LunReset)', async () => {
    await a.good(['reserve6']);
    await target.manage(a.nexus, { function: TaskManagementFunction.LOGICAL_UNIT_RESET, lun: 0 });
    await b.clearUnitAttentions();
    await b.good(['reserve6']);
  });
});

describe('persistent reservations (SPC-6 5.14)', () => {
  it('REGISTER, READ KEYS, RESERVE, READ RESERVATION, RELEASE, and PRGENERATION', async () => {
    expect((await prout(a, 'register', 5n, 0xaan)).status).toBe(ScsiStatus.RESERVATION_CONFLICT); // not registered, key != 0
    expect((await prout(a, 'register', 0n, 0xaan)).status).toBe(ScsiStatus.GOOD);
    expect((await prout(b, 'ignore', 0n, 0xbbn)).status).toBe(ScsiStatus.GOOD);
    expect(hex(await prin(a, 'prin-read-keys'))).toBe(
      '0000000200000010 00000000000000aa 00000000000000bb'.replace(/ /g, ''),
    );
    expect((await prout(a, 'reserve', 0xaan, 0n, WE)).status).toBe(ScsiStatus.GOOD);
    expect(reservation(await prin(b, 'prin-read-reservation'))).toEqual({ key: 0xaan, type: WE });
    expect((await prout(b, 'reserve', 0xbbn, 0n, WE)).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    expect((await prout(a, 'reserve', 0xaan, 0n, WE)).status).toBe(ScsiStatus.GOOD); // same type: no-op
    expect((await prout(a, 'release', 0xaan, 0n, EA)).status).toBe(ScsiStatus.CHECK_CONDITION); // 26/04
    expect((await prout(a, 'release', 0xaan, 0n, WE)).status).toBe(ScsiStatus.GOOD);
    expect(reservation(await prin(a, 'prin-read-reservation'))).toBeUndefined();
    expect((await prout(c, 'release', 0n, 0n, WE)).status).toBe(ScsiStatus.RESERVATION_CONFLICT); // not registered
  });

  it('enforces the access rules of each type for holders, registrants and others', async () => {
    const write = ['write10', { lba: 0, transferLength: 1 }] as const;
    const read = ['read10', { lba: 0, transferLength: 1 }] as const;
    const status = async (i: Initiator, cdb: typeof write | typeof read) =>
      (
        await i.run(
          [cdb[0], { ...cdb[1] }],
          cdb[0] === 'write10' ? { dataOut: new Uint8Array(512) } : { dataInLength: 512 },
        )
      ).status;
    const G = ScsiStatus.GOOD;
    const X = ScsiStatus.RESERVATION_CONFLICT;
    // [type, b (registered, not holder) read/write, c (not registered) read/write]
    const table: [number, number, number, number, number][] = [
      [WE, G, X, G, X],
      [EA, X, X, X, X],
      [WE_RO, G, G, G, X],
      [EA_RO, G, G, X, X],
      [WE_AR, G, G, G, X],
      [EA_AR, G, G, X, X],
    ];
    for (const [type, bRead, bWrite, cRead, cWrite] of table) {
      await prout(a, 'ignore', 0n, 0xa1n);
      await prout(b, 'ignore', 0n, 0xb1n);
      expect((await prout(a, 'reserve', 0xa1n, 0n, type)).status).toBe(G);
      expect([type, await status(a, read), await status(a, write)]).toEqual([type, G, G]);
      expect([type, await status(b, read), await status(b, write)]).toEqual([type, bRead, bWrite]);
      expect([type, await status(c, read), await status(c, write)]).toEqual([type, cRead, cWrite]);
      // INQUIRY and PERSISTENT RESERVE IN always pass; MODE SENSE passes under Write Exclusive.
      await c.good(['inquiry', { allocationLength: 36 }], { dataInLength: 36 });
      await prin(c, 'prin-read-keys');
      await prout(a, 'clear', 0xa1n);
      await b.clearUnitAttentions();
    }
  });

  it('sends RESERVATIONS RELEASED to the other registrants, not to the nexus that unregisters (ProutReserve.Ownership*)', async () => {
    for (const type of [EA, WE, EA_RO, WE_RO]) {
      await prout(a, 'ignore', 0n, 0x1n);
      await prout(b, 'ignore', 0n, 0x2n);
      await prout(a, 'reserve', 0x1n, 0n, type);
      await prout(a, 'register', 0x1n, 0n); // unregister the holder
      // The nexus that unregistered reads the (now absent) reservation without a unit attention.
      expect(reservation(await prin(a, 'prin-read-reservation'))).toBeUndefined();
      expect(await uaOf(a)).toBeUndefined();
      expect([type, await uaOf(b)]).toEqual([type, type === EA || type === WE ? undefined : '2a04']);
      await prout(b, 'register', 0x2n, 0n);
    }
    // All-registrants: the reservation stays while a registrant remains.
    await prout(a, 'ignore', 0n, 0x1n);
    await prout(b, 'ignore', 0n, 0x2n);
    await prout(a, 'reserve', 0x1n, 0n, EA_AR);
    await prout(a, 'register', 0x1n, 0n);
    expect(reservation(await prin(a, 'prin-read-reservation'))).toEqual({ key: 0n, type: EA_AR });
    expect((await prout(b, 'release', 0x2n, 0n, EA_AR)).status).toBe(ScsiStatus.GOOD);
  });

  it('PREEMPT takes the reservation over and tells the preempted nexus REGISTRATIONS PREEMPTED', async () => {
    await prout(a, 'ignore', 0n, 0x1n);
    await prout(b, 'ignore', 0n, 0x2n);
    await prout(c, 'ignore', 0n, 0x3n);
    await prout(a, 'reserve', 0x1n, 0n, WE_RO);
    expect((await prout(b, 'preempt', 0x2n, 0x1n, EA_RO)).status).toBe(ScsiStatus.GOOD);
    expect(reservation(await prin(b, 'prin-read-reservation'))).toEqual({ key: 0x2n, type: EA_RO });
    expect(await uaOf(a)).toBe('2a05');
    expect(await uaOf(c)).toBe('2a04'); // type changed: released for the remaining registrant
    expect((await prout(b, 'preempt', 0x2n, 0x99n, EA_RO)).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    expect((await prout(b, 'preempt', 0x2n, 0n, EA_RO)).status).toBe(ScsiStatus.CHECK_CONDITION);
  });

  it('PREEMPT AND ABORT aborts the preempted nexus tasks', async () => {
    await prout(a, 'ignore', 0n, 0x1n);
    await prout(b, 'ignore', 0n, 0x2n);
    await prout(a, 'reserve', 0x1n, 0n, WE);
    await target.configure(0, { latency: { nanoseconds: 5_000_000 } });
    const pending = a.send(['read10', { lba: 0, transferLength: 1 }], { dataInLength: 512 });
    await tick(); // a's read is enabled and waiting out its 5 ms
    await target.configure(0, { latency: { nanoseconds: 0 } });
    expect((await prout(b, 'preempt-and-abort', 0x2n, 0x1n, EA)).status).toBe(ScsiStatus.GOOD);
    expect(await pending).toMatchObject({ outcome: 'aborted', abortedBy: 'PREEMPT AND ABORT' });
    expect(await uaOf(a)).toBe('2a05');
  });

  it('CLEAR drops every registration and tells the others RESERVATIONS PREEMPTED', async () => {
    await prout(a, 'ignore', 0n, 0x1n);
    await prout(b, 'ignore', 0n, 0x2n);
    await prout(a, 'reserve', 0x1n, 0n, EA);
    expect((await prout(b, 'clear', 0x2n)).status).toBe(ScsiStatus.GOOD);
    expect(await uaOf(a)).toBe('2a03');
    expect(await uaOf(b)).toBeUndefined();
    expect(hex(await prin(b, 'prin-read-keys')).slice(8, 16)).toBe('00000000');
  });

  it('READ FULL STATUS lists each registration with holder, type, relative port and iSCSI TransportID', async () => {
    await prout(a, 'ignore', 0n, 0x1n);
    await prout(b, 'ignore', 0n, 0x2n);
    await prout(a, 'reserve', 0x1n, 0n, WE_RO);
    const data = await prin(c, 'prin-read-full-status');
    const first = decodeTable(PR_FULL_STATUS_DESCRIPTOR, data, 8, 24);
    expect(first).toMatchObject({
      reservationKey: 1n,
      rHolder: 1,
      type: WE_RO,
      relativeTargetPortIdentifier: 1,
    });
    const tidLength = first.additionalDescriptorLength as number;
    const tid = data.subarray(32, 32 + tidLength);
    expect(tid[0]).toBe(0x45); // format 01b, protocol 5 (iSCSI)
    expect(Buffer.from(tid.subarray(4)).toString('latin1').replace(/\0+$/, '')).toBe(a.nexus.initiator);
    expect(tidLength % 4).toBe(0);
    const second = decodeTable(PR_FULL_STATUS_DESCRIPTOR, data, 32 + tidLength, 24);
    expect(second).toMatchObject({ reservationKey: 2n, rHolder: 0, type: 0 });
  });

  it('REPORT CAPABILITIES: CRH, every type, no SPEC_I_PT / ALL_TG_PT / APTPL (and refuses them)', async () => {
    const caps = decodeTable(PR_CAPABILITIES, await prin(a, 'prin-report-capabilities'), 0, 8);
    expect(caps).toMatchObject({
      length: 8,
      crh: 1,
      sipC: 0,
      atpC: 0,
      ptplC: 0,
      tmv: 1,
      wrEx: 1,
      exAc: 1,
      exAcAr: 1,
    });
    for (const [flag, bit] of [
      ['aptpl', 0],
      ['allTgPt', 2],
      ['specIPt', 3],
    ] as const) {
      const s = await a.check(['prout-register', { parameterListLength: 24 }], {
        dataOut: params(0n, 1n, { [flag]: 1 }),
      });
      expect(s.senseKeySpecific).toEqual({
        kind: 'field-pointer',
        inCdb: false,
        fieldPointer: 20,
        bitPointer: bit,
      });
    }
    expect(
      (await a.check(['prout-register', { parameterListLength: 23 }], { dataOut: new Uint8Array(23) })).asc,
    ).toBe(0x1a);
  });

  it('answers every PR IN service action 0..31: the four defined ones GOOD, the rest INVALID FIELD IN CDB (PrinServiceactionRange)', async () => {
    for (let sa = 0; sa < 32; sa++) {
      const cdb = Uint8Array.of(0x5e, sa, 0, 0, 0, 0, 0, 0x02, 0x00, 0);
      const r = await a.run(cdb, { dataInLength: 512 });
      expect([sa, r.status]).toEqual([sa, sa < 4 ? ScsiStatus.GOOD : ScsiStatus.CHECK_CONDITION]);
    }
  });

  it('RESERVE(6) with persistent registrations: GOOD no-op for registrants of a registrants-only type, else conflict (CRH)', async () => {
    await prout(a, 'ignore', 0n, 0x1n);
    expect((await c.run(['reserve6'])).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
    await prout(a, 'reserve', 0x1n, 0n, WE);
    expect((await a.run(['reserve6'])).status).toBe(ScsiStatus.GOOD); // the holder: ignored
    expect((await c.run(['reserve6'])).status).toBe(ScsiStatus.RESERVATION_CONFLICT);
  });

  it('keeps registrations across I_T NEXUS RESET and LOGICAL UNIT RESET', async () => {
    await prout(a, 'ignore', 0n, 0x1n);
    await prout(a, 'reserve', 0x1n, 0n, EA);
    await target.manage(a.nexus, { function: TaskManagementFunction.LOGICAL_UNIT_RESET, lun: 0 });
    await target.manage(a.nexus, { function: TaskManagementFunction.I_T_NEXUS_RESET, lun: 0 });
    await a.clearUnitAttentions();
    expect(reservation(await prin(a, 'prin-read-reservation'))).toEqual({ key: 1n, type: EA });
  });
});
