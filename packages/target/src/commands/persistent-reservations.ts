/**
 * PERSISTENT RESERVE IN (SPC-6 6.16) and PERSISTENT RESERVE OUT (SPC-6 6.17), with the
 * reservation model of SPC-6 5.14 over {@link Reservations}. Every unit attention goes to the
 * I_T nexuses SPC-6 names and to no other: in particular, when a reservation holder
 * unregisters and a registrants-only reservation goes away, RESERVATIONS RELEASED goes to the
 * *other* registrants, not to the nexus that unregistered (the tgt bug libiscsi's
 * `ProutReserve.Ownership*` tests catch).
 * @module
 */
import {
  decodeTable,
  encodeTable,
  type FieldValues,
  PR_CAPABILITIES,
  PR_FULL_STATUS_DESCRIPTOR,
  PR_IN_HEADER,
  PR_OUT_PARAMETER_LIST,
  PR_RESERVATION_DESCRIPTOR,
  ScsiStatus,
  SenseKey,
} from '@sgv4/core';
import type { LogicalUnit } from '../logical-unit/logical-unit.js';
import {
  isAllRegistrantsType,
  isRegistrantsType,
  PR_TYPES,
  type Registration,
} from '../logical-unit/reservations.js';
import type { NexusInfo } from '../nexus.js';
import { Asc } from '../sense/additional-sense.js';
import {
  CheckCondition,
  invalidFieldInCdb,
  invalidFieldInParameterList,
  parameterListLengthError,
} from '../sense/check-condition.js';
import type { MaybePromise } from '../storage/block-store.js';
import type { CommandContext, CommandResult, TargetView } from './command-context.js';
import { allocate, big, num } from './helpers.js';

const RESERVATION_CONFLICT: CommandResult = Object.freeze({ status: ScsiStatus.RESERVATION_CONFLICT });

function withHeader(generation: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + body.length);
  encodeTable(PR_IN_HEADER, { prGeneration: generation, additionalLength: body.length }, out, 0);
  out.set(body, 8);
  return out;
}

/** 64-bit FNV-1a, for stable made-up SAS addresses. */
export function fnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of new TextEncoder().encode(text)) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffff_ffff_ffff_ffffn;
  }
  return h;
}

/**
 * The TransportID of an initiator port (SPC-6 7.6.4): iSCSI (protocol 5) format 01b when the
 * port name carries `,i,0x<ISID>` (SPC-6 7.6.4.6), else format 00b; SAS (protocol 6) with a
 * NAA 5 address derived from the initiator name (in-process initiators have no real one).
 */
export function transportId(target: TargetView, nexus: NexusInfo): Uint8Array {
  if (target.protocol === 'iscsi') {
    const withIsid = /,i,0x[0-9a-fA-F]+$/.test(nexus.initiator);
    const name = new TextEncoder().encode(nexus.initiator);
    const padded = (name.length + 1 + 3) & ~3;
    const out = new Uint8Array(4 + padded);
    out[0] = (withIsid ? 0x40 : 0x00) | 0x05;
    out[2] = padded >> 8;
    out[3] = padded & 0xff;
    out.set(name, 4);
    return out;
  }
  const out = new Uint8Array(24);
  out[0] = 0x06;
  const address = (fnv1a64(nexus.initiator) & 0x0fff_ffff_ffff_ffffn) | 0x5000_0000_0000_0000n;
  new DataView(out.buffer).setBigUint64(4, address);
  return out;
}

/**
 * PERSISTENT RESERVE IN: READ KEYS, READ RESERVATION (the key is 0 for all-registrants types,
 * SPC-6 6.16.3), REPORT CAPABILITIES (CRH = 1, no SPEC_I_PT/ALL_TG_PT/APTPL, every type), and
 * READ FULL STATUS (one descriptor per registration with its TransportID and relative target
 * port: what tgt lacks, libiscsi `PrinServiceactionRange`). Other service actions are INVALID
 * FIELD IN CDB (byte 1).
 */
export function persistentReserveIn(ctx: CommandContext): CommandResult {
  const { lu, fields } = ctx;
  const r = lu.reservations;
  const allocationLength = num(fields.allocationLength);
  const regs = [...r.registrations.values()];
  let data: Uint8Array;
  switch ((ctx.cdb[1] ?? 0) & 0x1f) {
    case 0x00: {
      const body = new Uint8Array(8 * regs.length);
      const view = new DataView(body.buffer);
      regs.forEach((g, i) => {
        view.setBigUint64(8 * i, g.key);
      });
      data = withHeader(r.generation, body);
      break;
    }
    case 0x01: {
      const res = r.reservation;
      if (res === undefined) {
        data = withHeader(r.generation, new Uint8Array(0));
      } else {
        const key = isAllRegistrantsType(res.type) ? 0n : (r.registrations.get(res.holder)?.key ?? 0n);
        data = withHeader(
          r.generation,
          encodeTable(PR_RESERVATION_DESCRIPTOR, { reservationKey: key, scope: res.scope, type: res.type }),
        );
      }
      break;
    }
    case 0x02:
      data = encodeTable(PR_CAPABILITIES, {
        length: 8,
        crh: 1,
        tmv: 1,
        wrEx: 1,
        exAc: 1,
        wrExRo: 1,
        exAcRo: 1,
        wrExAr: 1,
        exAcAr: 1,
      });
      break;
    case 0x03: {
      const parts = regs.map((g) => {
        const tid = transportId(ctx.target, g.nexus);
        const holder = r.isHolder(g.nexus.key);
        const d = new Uint8Array(24 + tid.length);
        encodeTable(
          PR_FULL_STATUS_DESCRIPTOR,
          {
            reservationKey: g.key,
            rHolder: holder ? 1 : 0,
            scope: holder ? (r.reservation?.scope ?? 0) : 0,
            type: holder ? (r.reservation?.type ?? 0) : 0,
            relativeTargetPortIdentifier: g.nexus.relativePort,
            additionalDescriptorLength: tid.length,
          },
          d,
          0,
        );
        d.set(tid, 24);
        return d;
      });
      const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let off = 0;
      for (const p of parts) {
        body.set(p, off);
        off += p.length;
      }
      data = withHeader(r.generation, body);
      break;
    }
    default:
      throw invalidFieldInCdb(1, 4);
  }
  return { dataIn: allocate(data, allocationLength) };
}

/** Data-out of PERSISTENT RESERVE OUT: the PARAMETER LIST LENGTH. */
export function persistentReserveOutDataOut(fields: FieldValues): number {
  return num(fields.parameterListLength);
}

/** Removes registrations, telling each removed nexus (other than `except`) REGISTRATIONS PREEMPTED. */
function removeRegistrations(lu: LogicalUnit, victims: Registration[], except: string): void {
  for (const v of victims) {
    lu.reservations.registrations.delete(v.nexus.key);
    if (v.nexus.key !== except) lu.unitAttentions.establish(v.nexus.key, Asc.REGISTRATIONS_PREEMPTED);
  }
}

/** RESERVATIONS RELEASED to every registrant except `except` (SPC-6 5.14.11.2: registrants-only and all-registrants types). */
function releasedToOtherRegistrants(lu: LogicalUnit, except: string): void {
  for (const key of lu.reservations.registrations.keys())
    if (key !== except) lu.unitAttentions.establish(key, Asc.RESERVATIONS_RELEASED);
}

/**
 * PERSISTENT RESERVE OUT (SPC-6 6.17, 5.14.x): REGISTER, RESERVE, RELEASE, CLEAR, PREEMPT,
 * PREEMPT AND ABORT, REGISTER AND IGNORE EXISTING KEY. The parameter list must be 24 bytes
 * (PARAMETER LIST LENGTH ERROR otherwise: SPEC_I_PT is not supported); SPEC_I_PT, ALL_TG_PT
 * and APTPL = 1 are INVALID FIELD IN PARAMETER LIST (REPORT CAPABILITIES says SIP_C, ATP_C and
 * PTPL_C are 0); SCOPE other than LU_SCOPE and an undefined TYPE are INVALID FIELD IN CDB.
 */
export function persistentReserveOut(ctx: CommandContext): MaybePromise<CommandResult | undefined> {
  const { lu, fields, nexus, dataOut } = ctx;
  const sa = (ctx.cdb[1] ?? 0) & 0x1f;
  if (num(fields.parameterListLength) !== 24) throw parameterListLengthError(5);
  const p = decodeTable(PR_OUT_PARAMETER_LIST, dataOut, 0, 24);
  if (p.specIPt === 1) throw invalidFieldInParameterList(20, 3);
  if (p.allTgPt === 1) throw invalidFieldInParameterList(20, 2);
  if (p.aptpl === 1) throw invalidFieldInParameterList(20, 0);
  const key = big(p.reservationKey);
  const saKey = big(p.serviceActionReservationKey);
  const type = num(fields.type);
  const scope = num(fields.scope);
  const usesType = sa === 1 || sa === 2 || sa === 4 || sa === 5;
  if (usesType) {
    if (scope !== 0) throw invalidFieldInCdb(2, 7);
    if (!PR_TYPES.has(type)) throw invalidFieldInCdb(2, 3);
  }
  const r = lu.reservations;
  const me = r.registrations.get(nexus.key);

  if (sa === 0 || sa === 6) {
    // REGISTER / REGISTER AND IGNORE EXISTING KEY (SPC-6 5.14.7).
    if (me === undefined) {
      if (sa === 0 && key !== 0n) return RESERVATION_CONFLICT;
      if (saKey === 0n) return undefined;
      r.registrations.set(nexus.key, { nexus, key: saKey });
      r.bump();
      return undefined;
    }
    if (sa === 0 && key !== me.key) return RESERVATION_CONFLICT;
    if (saKey !== 0n) {
      me.key = saKey;
      r.bump();
      return undefined;
    }
    // Unregister (SPC-6 5.14.11.2.x): a holder's reservation goes with it, except that an
    // all-registrants reservation lasts while any registrant remains.
    const res = r.reservation;
    const wasHolder = r.isHolder(nexus.key);
    r.registrations.delete(nexus.key);
    if (res !== undefined && wasHolder) {
      if (!isAllRegistrantsType(res.type) || r.registrations.size === 0) {
        r.reservation = undefined;
        if (isRegistrantsType(res.type)) releasedToOtherRegistrants(lu, nexus.key);
      }
    }
    r.bump();
    return undefined;
  }

  // Every other service action needs a registered nexus with the matching key.
  if (me === undefined || key !== me.key) return RESERVATION_CONFLICT;

  switch (sa) {
    case 1: {
      // RESERVE (SPC-6 5.14.9).
      const res = r.reservation;
      if (res === undefined) {
        r.reservation = { holder: nexus.key, type, scope };
        return undefined;
      }
      if (r.isHolder(nexus.key) && res.type === type && res.scope === scope) return undefined;
      return RESERVATION_CONFLICT;
    }
    case 2: {
      // RELEASE (SPC-6 5.14.11.2.2).
      const res = r.reservation;
      if (res === undefined || !r.isHolder(nexus.key)) return undefined;
      if (res.type !== type || res.scope !== scope) {
        throw new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_RELEASE_OF_PERSISTENT_RESERVATION);
      }
      r.reservation = undefined;
      if (isRegistrantsType(res.type)) releasedToOtherRegistrants(lu, nexus.key);
      return undefined;
    }
    case 3: {
      // CLEAR (SPC-6 5.14.11.2.6): RESERVATIONS PREEMPTED to every other registrant.
      for (const k of r.registrations.keys())
        if (k !== nexus.key) lu.unitAttentions.establish(k, Asc.RESERVATIONS_PREEMPTED);
      r.registrations.clear();
      r.reservation = undefined;
      r.bump();
      return undefined;
    }
    case 4:
    case 5:
      return preempt(ctx, saKey, type, scope, sa === 5);
    default:
      throw invalidFieldInCdb(1, 4);
  }
}

/**
 * PREEMPT / PREEMPT AND ABORT (SPC-6 5.14.11.4): removes the registrations holding the
 * SERVICE ACTION RESERVATION KEY (REGISTRATIONS PREEMPTED to each), and when that key is the
 * holder's (or 0 for an all-registrants reservation) takes the reservation over with the new
 * TYPE and SCOPE. With no registration to remove: RESERVATION CONFLICT; a zero key without an
 * all-registrants reservation: INVALID FIELD IN PARAMETER LIST. PREEMPT AND ABORT also aborts
 * every task of the preempted I_T nexuses.
 */
function preempt(
  ctx: CommandContext,
  saKey: bigint,
  type: number,
  scope: number,
  abort: boolean,
): MaybePromise<CommandResult | undefined> {
  const { lu, nexus } = ctx;
  const r = lu.reservations;
  const res = r.reservation;
  const all = [...r.registrations.values()];
  let victims: Registration[];
  if (res !== undefined && isAllRegistrantsType(res.type) && saKey === 0n) {
    victims = all.filter((g) => g.nexus.key !== nexus.key);
    removeRegistrations(lu, victims, nexus.key);
    r.reservation = { holder: nexus.key, type, scope };
  } else {
    if (saKey === 0n) throw invalidFieldInParameterList(8);
    victims = all.filter((g) => g.key === saKey);
    if (victims.length === 0) return RESERVATION_CONFLICT;
    const holderKey = res === undefined ? undefined : r.registrations.get(res.holder)?.key;
    const takesOver = res !== undefined && !isAllRegistrantsType(res.type) && holderKey === saKey;
    removeRegistrations(lu, victims, nexus.key);
    if (takesOver && res !== undefined) {
      const changed = res.type !== type || res.scope !== scope;
      r.reservation = { holder: nexus.key, type, scope };
      if (changed) releasedToOtherRegistrants(lu, nexus.key);
    }
  }
  r.bump();
  if (!abort) return undefined;
  const keys = new Set(victims.map((v) => v.nexus.key));
  keys.delete(nexus.key);
  const stopped = lu.abortTasksOf(keys, 'PREEMPT AND ABORT', nexus);
  return stopped === undefined ? undefined : stopped.then(() => undefined);
}
