/**
 * The commands the target implements: one row per command (per service action), pairing the
 * core's CDB table with the handler and what the logical unit checks before running it.
 * REPORT SUPPORTED OPERATION CODES is generated from this table.
 *
 * Reservation access classes follow SPC-6 5.14.1 and the SBC-5 4.x tables of commands allowed
 * in the presence of reservations: medium reads, MODE SENSE, REPORT SUPPORTED OPERATION CODES
 * and PRE-FETCH are `read` (allowed to everyone under Write Exclusive types); writes, UNMAP,
 * SYNCHRONIZE CACHE, MODE SELECT, START STOP UNIT with START = 0 and PREVENT ALLOW with
 * PREVENT = 1 are `write`; INQUIRY, REPORT LUNS, REQUEST SENSE, TEST UNIT READY, READ
 * CAPACITY, PERSISTENT RESERVE IN/OUT and RESERVE/RELEASE are `always` (PERSISTENT RESERVE OUT
 * and RESERVE/RELEASE apply their own rules).
 * @module
 */
import { type CdbKey, cdbSpec, decodeTable, type FieldValues, SenseKey } from '@sgv4/core';
import { Asc } from '../sense/additional-sense.js';
import { CheckCondition, invalidFieldInCdb, invalidOperationCode } from '../sense/check-condition.js';
import { preFetch, synchronizeCache } from './cache.js';
import { readCapacity10, readCapacity16 } from './capacity.js';
import type { CommandDescriptor } from './command-context.js';
import { num } from './helpers.js';
import { inquiry } from './inquiry.js';
import { modeSelect, modeSelectDataOut, modeSense } from './mode.js';
import {
  persistentReserveIn,
  persistentReserveOut,
  persistentReserveOutDataOut,
} from './persistent-reservations.js';
import {
  compareAndWrite,
  compareAndWriteDataOut,
  getLbaStatus,
  unmap,
  unmapDataOut,
  writeSame,
  writeSameDataOut,
  writeSameRange,
} from './provisioning.js';
import {
  blockRange,
  read,
  transferBlocks,
  verify,
  verifyDataOut,
  write,
  writeAndVerify,
} from './read-write.js';
import { reportSupportedOperationCodes, reportSupportedTmfs } from './report-opcodes.js';
import { release, reserve } from './reserve-release.js';
import { preventAllow, reportLuns, requestSense, startStopUnit, testUnitReady } from './unit.js';

const writeDataOut =
  (sixByte = false) =>
  (f: FieldValues, lu: { blockSize: number }): number =>
    transferBlocks(f, sixByte) * lu.blockSize;

/** Blocks to the end for a 0 count (SYNCHRONIZE CACHE, PRE-FETCH). */
const toEnd = (f: FieldValues, count: number, capacity: number): number =>
  count !== 0 ? count : Math.max(0, capacity - num(f.lba));

const row = (key: CdbKey, d: Omit<CommandDescriptor, 'spec'>): CommandDescriptor =>
  Object.freeze({ spec: cdbSpec(key), ...d });

/** Every implemented command. */
export const COMMANDS: readonly CommandDescriptor[] = Object.freeze([
  row('tur', { handler: testUnitReady, access: 'always', medium: true, timeoutSeconds: 10 }),
  row('request-sense', {
    handler: requestSense,
    access: 'always',
    spc2Allowed: true,
    unitAttention: 'request-sense',
  }),
  row('inquiry', {
    handler: inquiry,
    access: 'always',
    spc2Allowed: true,
    unitAttention: 'ignore',
    timeoutSeconds: 10,
  }),
  row('read-capacity10', { handler: readCapacity10, access: 'always', medium: true }),
  row('read-capacity16', { handler: readCapacity16, access: 'always', medium: true }),
  row('read6', { handler: read, access: 'read', medium: true, range: blockRange(false, true) }),
  row('read10', { handler: read, access: 'read', medium: true, range: blockRange(false) }),
  row('read12', { handler: read, access: 'read', medium: true, range: blockRange(false) }),
  row('read16', { handler: read, access: 'read', medium: true, range: blockRange(false) }),
  ...(['write6', 'write10', 'write12', 'write16'] as const).map((key) =>
    row(key, {
      handler: write,
      access: 'write',
      medium: true,
      modifiesMedium: true,
      dataOutLength: writeDataOut(key === 'write6'),
      range: blockRange(true, key === 'write6'),
    }),
  ),
  ...(['write-verify10', 'write-verify12', 'write-verify16'] as const).map((key) =>
    row(key, {
      handler: writeAndVerify,
      access: 'write',
      medium: true,
      modifiesMedium: true,
      dataOutLength: writeDataOut(),
      range: blockRange(true),
    }),
  ),
  ...(['verify10', 'verify12', 'verify16'] as const).map((key) =>
    row(key, {
      handler: verify,
      access: 'read',
      medium: true,
      dataOutLength: verifyDataOut,
      range: blockRange(false),
    }),
  ),
  row('compare-and-write', {
    handler: compareAndWrite,
    access: 'write',
    medium: true,
    modifiesMedium: true,
    dataOutLength: compareAndWriteDataOut,
    dataOutExact: true,
    range: (f) => ({ lba: num(f.lba), blocks: num(f.numberOfBlocks), writes: true, atomic: true }),
  }),
  ...(['write-same10', 'write-same16'] as const).map((key) =>
    row(key, {
      handler: writeSame,
      access: 'write',
      medium: true,
      modifiesMedium: true,
      dataOutLength: writeSameDataOut,
      dataOutExact: true,
      range: writeSameRange,
      timeoutSeconds: 120,
    }),
  ),
  row('unmap', {
    handler: unmap,
    access: 'write',
    medium: true,
    modifiesMedium: true,
    dataOutLength: unmapDataOut,
    range: (_f, _lu, dataOut) => {
      // The span of the descriptors (coarse: one range from the lowest to the highest LBA).
      let lo = Number.MAX_SAFE_INTEGER;
      let hi = 0;
      for (let off = 8; off + 16 <= dataOut.length; off += 16) {
        const view = new DataView(dataOut.buffer, dataOut.byteOffset + off, 16);
        const lba = Number(view.getBigUint64(0));
        const n = view.getUint32(8);
        if (n === 0) continue;
        lo = Math.min(lo, lba);
        hi = Math.max(hi, lba + n);
      }
      return hi > lo ? { lba: lo, blocks: hi - lo, writes: true } : undefined;
    },
    supported: (lu) => lu.thin,
  }),
  row('get-lba-status', { handler: getLbaStatus, access: 'read', medium: true }),
  ...(['sync-cache10', 'sync-cache16'] as const).map((key) =>
    row(key, {
      handler: synchronizeCache,
      access: 'write',
      medium: true,
      range: (f, lu) => ({
        lba: num(f.lba),
        blocks: toEnd(f, num(f.numberOfBlocks), lu.capacity),
        writes: false,
      }),
      timeoutSeconds: 60,
    }),
  ),
  ...(['prefetch10', 'prefetch16'] as const).map((key) =>
    row(key, {
      handler: preFetch,
      access: 'read',
      medium: true,
      range: (f, lu) => ({
        lba: num(f.lba),
        blocks: toEnd(f, num(f.prefetchLength), lu.capacity),
        writes: false,
      }),
    }),
  ),
  row('mode-sense6', { handler: modeSense, access: 'read' }),
  row('mode-sense10', { handler: modeSense, access: 'read' }),
  row('mode-select6', { handler: modeSelect, access: 'write', dataOutLength: modeSelectDataOut }),
  row('mode-select10', { handler: modeSelect, access: 'write', dataOutLength: modeSelectDataOut }),
  row('report-luns', {
    handler: reportLuns,
    access: 'always',
    spc2Allowed: true,
    unitAttention: 'report-luns',
  }),
  row('report-opcodes', { handler: reportSupportedOperationCodes, access: 'read' }),
  row('report-tmfs', { handler: reportSupportedTmfs, access: 'read' }),
  row('start-stop', {
    handler: startStopUnit,
    access: (f) => (f.start === 1 || num(f.powerCondition) !== 0 ? 'always' : 'write'),
    timeoutSeconds: 60,
  }),
  row('prevent-allow', { handler: preventAllow, access: (f) => (num(f.prevent) === 0 ? 'always' : 'write') }),
  ...(
    ['prin-read-keys', 'prin-read-reservation', 'prin-report-capabilities', 'prin-read-full-status'] as const
  ).map((key) => row(key, { handler: persistentReserveIn, access: 'always' })),
  ...(
    [
      'prout-register',
      'prout-reserve',
      'prout-release',
      'prout-clear',
      'prout-preempt',
      'prout-preempt-and-abort',
      'prout-register-and-ignore',
    ] as const
  ).map((key) =>
    row(key, { handler: persistentReserveOut, access: 'always', dataOutLength: persistentReserveOutDataOut }),
  ),
  row('reserve6', { handler: reserve, access: 'always', spc2Allowed: true }),
  row('release6', { handler: release, access: 'always', spc2Allowed: true }),
  row('reserve10', { handler: reserve, access: 'always', spc2Allowed: true }),
  row('release10', { handler: release, access: 'always', spc2Allowed: true }),
]);

/** opcode << 8 | service action (0 for opcodes without) -> row. */
const BY_KEY: ReadonlyMap<number, CommandDescriptor> = new Map(
  COMMANDS.map((d) => [(d.spec.opcode << 8) | (d.spec.serviceAction ?? 0), d]),
);
/** Opcodes whose rows are keyed by service action. */
const WITH_SERVICE_ACTIONS: ReadonlySet<number> = new Set(
  COMMANDS.filter((d) => d.spec.serviceAction !== undefined).map((d) => d.spec.opcode),
);

/** A decoded CDB, or the CHECK CONDITION a CDB that cannot be decoded earns. */
export type CommandLookup =
  | { readonly descriptor: CommandDescriptor; readonly fields: FieldValues; readonly error?: undefined }
  | { readonly descriptor?: undefined; readonly fields?: undefined; readonly error: CheckCondition };

/**
 * Finds the row for a CDB and decodes it with the core's codec. An unknown opcode is INVALID
 * COMMAND OPERATION CODE (SPC-6 4.x); an unknown service action of a known opcode is INVALID
 * FIELD IN CDB at byte 1 (libiscsi `PrinServiceactionRange`); a CDB shorter than the command
 * is INVALID FIELD IN CDB at byte 0.
 */
export function lookupCommand(cdb: Uint8Array): CommandLookup {
  const opcode = cdb[0] ?? 0;
  const sa = WITH_SERVICE_ACTIONS.has(opcode) ? (cdb[1] ?? 0) & 0x1f : 0;
  const descriptor = BY_KEY.get((opcode << 8) | sa);
  if (descriptor === undefined) {
    return { error: WITH_SERVICE_ACTIONS.has(opcode) ? invalidFieldInCdb(1, 4) : invalidOperationCode() };
  }
  if (cdb.length < descriptor.spec.length) {
    return { error: new CheckCondition(SenseKey.ILLEGAL_REQUEST, Asc.INVALID_FIELD_IN_CDB) };
  }
  return { descriptor, fields: decodeTable(descriptor.spec, cdb, 0, descriptor.spec.length) };
}
