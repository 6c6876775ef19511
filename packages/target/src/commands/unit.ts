/**
 * Commands about the unit rather than its blocks: TEST UNIT READY (SPC-6 6.47), START STOP UNIT
 * (SBC-5 5.27), PREVENT ALLOW MEDIUM REMOVAL (SBC-5 5.12), REQUEST SENSE (SPC-6 6.39) and
 * REPORT LUNS (SPC-6 6.33).
 * @module
 */
import { encodeSense, SenseKey } from '@sgv4/core';
import { Asc } from '../sense/additional-sense.js';
import { CheckCondition, invalidFieldInCdb } from '../sense/check-condition.js';
import type { CommandContext, CommandResult } from './command-context.js';
import { allocate, num } from './helpers.js';

/** TEST UNIT READY: GOOD when ready; NOT READY is decided before the handler runs. */
export function testUnitReady(): CommandResult | undefined {
  return undefined;
}

/**
 * START STOP UNIT: with POWER CONDITION 0, START = 0 stops the unit (media commands then get
 * NOT READY, 04/02 INITIALIZING COMMAND REQUIRED) and START = 1 starts it; LOEJ = 1 with
 * START = 0 while an I_T nexus prevents removal is ILLEGAL REQUEST, MEDIUM REMOVAL PREVENTED
 * (53/02). Other power conditions are accepted and leave the unit started (the target has no
 * power states to model).
 */
export function startStopUnit(ctx: CommandContext): CommandResult | undefined {
  const f = ctx.fields;
  if (num(f.powerCondition) !== 0) {
    ctx.lu.stopped = false;
    return undefined;
  }
  if (f.loej === 1 && f.start === 0 && ctx.lu.preventingRemoval.size > 0) {
    throw new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.MEDIUM_REMOVAL_PREVENTED);
  }
  ctx.lu.stopped = f.start === 0;
  return undefined;
}

/** PREVENT ALLOW MEDIUM REMOVAL: PREVENT 01b prevents, 00b allows, per I_T nexus; 1xb is obsolete (INVALID FIELD IN CDB). */
export function preventAllow(ctx: CommandContext): CommandResult | undefined {
  const prevent = num(ctx.fields.prevent);
  if (prevent > 1) throw invalidFieldInCdb(4, 1);
  if (prevent === 1) ctx.lu.preventingRemoval.add(ctx.nexus.key);
  else ctx.lu.preventingRemoval.delete(ctx.nexus.key);
  return undefined;
}

/**
 * REQUEST SENSE: reports (and clears) the oldest pending unit attention of the I_T nexus with
 * GOOD status (SAM-6 5.14); else the NOT READY condition of the unit, else NO SENSE. DESC = 1
 * returns descriptor format.
 */
export function requestSense(ctx: CommandContext): CommandResult {
  const format = ctx.fields.desc === 1 ? 'descriptor' : 'fixed';
  const ua = ctx.lu.unitAttentions.take(ctx.nexus.key);
  let sense: Uint8Array;
  if (ua !== undefined) {
    sense = encodeSense({
      format,
      senseKey: SenseKey.UNIT_ATTENTION,
      ...ua.code,
      ...(ua.overflow
        ? { senseKeySpecific: { kind: 'unit-attention-overflow', overflow: true } as const }
        : {}),
    });
  } else {
    const notReady = ctx.lu.notReadyCode();
    sense = encodeSense(
      notReady === undefined
        ? { format, senseKey: SenseKey.NO_SENSE, ...Asc.NO_ADDITIONAL_SENSE_INFORMATION }
        : { format, senseKey: SenseKey.NOT_READY, ...notReady },
    );
  }
  return { dataIn: allocate(sense, num(ctx.fields.allocationLength)) };
}

/** REQUEST SENSE to a LUN the target does not have: LOGICAL UNIT NOT SUPPORTED as data, GOOD (SAM-6 5.x "incorrect logical unit"). */
export function requestSenseNoLun(desc: boolean, allocationLength: number): Uint8Array {
  return allocate(
    encodeSense({
      format: desc ? 'descriptor' : 'fixed',
      senseKey: SenseKey.ILLEGAL_REQUEST,
      ...Asc.LOGICAL_UNIT_NOT_SUPPORTED,
    }),
    allocationLength,
  );
}

/**
 * The 8-byte LUN of a LUN number (SAM-6 4.7): peripheral device addressing for 0..255, flat
 * space (01b) for 256..16383 — the form Linux's `int_to_scsilun()` produces.
 */
export function encodeLun(lun: bigint): Uint8Array {
  const out = new Uint8Array(8);
  const n = Number(lun);
  if (n < 256) out[1] = n;
  else {
    out[0] = 0x40 | (n >> 8);
    out[1] = n & 0xff;
  }
  return out;
}

/**
 * The LUN value of an 8-byte LUN field (SAM-6 4.7), the inverse of {@link encodeLun}: peripheral
 * device addressing with bus 0 (`00 NN`), or flat space (`01b`, 14 bits). Other addressing
 * methods, a non-zero bus, or a second level give undefined (no such logical unit here).
 */
export function decodeLun(bytes: Uint8Array): bigint | undefined {
  if (bytes.length !== 8 || bytes.subarray(2).some((b) => b !== 0)) return undefined;
  const b0 = bytes[0] ?? 0;
  const b1 = bytes[1] ?? 0;
  if (b0 === 0) return BigInt(b1);
  if (b0 >> 6 === 1) return BigInt(((b0 & 0x3f) << 8) | b1);
  return undefined;
}

/**
 * REPORT LUNS data for SELECT REPORT 00h/02h (every LU) or 01h (well-known LUs: none);
 * other values are INVALID FIELD IN CDB (byte 2). Served on any LUN.
 */
export function reportLunsData(
  luns: readonly bigint[],
  selectReport: number,
  allocationLength: number,
): Uint8Array {
  if (selectReport > 2) throw invalidFieldInCdb(2);
  const listed = selectReport === 1 ? [] : luns;
  const data = new Uint8Array(8 + 8 * listed.length);
  const len = 8 * listed.length;
  data[0] = (len >>> 24) & 0xff;
  data[1] = (len >>> 16) & 0xff;
  data[2] = (len >>> 8) & 0xff;
  data[3] = len & 0xff;
  listed.forEach((l, i) => {
    data.set(encodeLun(l), 8 + 8 * i);
  });
  return allocate(data, allocationLength);
}

/** REPORT LUNS (SPC-6 6.33); it also clears REPORTED LUNS DATA HAS CHANGED for the nexus. */
export function reportLuns(ctx: CommandContext): CommandResult {
  ctx.lu.unitAttentions.clear(ctx.nexus.key, Asc.REPORTED_LUNS_DATA_HAS_CHANGED);
  return {
    dataIn: reportLunsData(ctx.target.luns, num(ctx.fields.selectReport), num(ctx.fields.allocationLength)),
  };
}
