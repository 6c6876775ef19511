/**
 * READ(6/10/12/16), WRITE(6/10/12/16), WRITE AND VERIFY(10/12/16) and VERIFY(10/12/16)
 * (SBC-5 5.x). DPO is accepted (the target has no cache to keep or bypass); FUA makes a write
 * durable before GOOD (fdatasync on file backing) and makes a read flush written data first
 * (SBC-5 5.x "FUA bit").
 * @module
 */
import { cdbLengthForOpcode, type FieldValues, SenseKey } from '@sgv4/core';
import type { LogicalUnit } from '../logical-unit/logical-unit.js';
import { Asc } from '../sense/additional-sense.js';
import { CheckCondition, invalidFieldInCdb } from '../sense/check-condition.js';
import type { MaybePromise } from '../storage/block-store.js';
import type { CommandContext, CommandResult, LbaRange } from './command-context.js';
import { checkMediumErrors, checkRange, num } from './helpers.js';

/** TRANSFER LENGTH in blocks: READ(6)/WRITE(6) use 0 for 256 (SBC-5 5.14, 5.42). */
export function transferBlocks(fields: FieldValues, sixByte: boolean): number {
  const n = num(fields.transferLength ?? fields.verificationLength);
  return sixByte && n === 0 ? 256 : n;
}

/** Byte of the TRANSFER LENGTH field for the field pointer, by CDB length. */
function lengthByte(cdbLength: number): number {
  return cdbLength === 6 ? 4 : cdbLength === 10 ? 7 : cdbLength === 12 ? 6 : 10;
}

/**
 * The checks every block command makes before touching the medium: no protection information
 * (RDPROTECT/WRPROTECT/VRPROTECT != 0 is INVALID FIELD IN CDB, byte 1 bit 7, SBC-5 5.x: the LU
 * reports PROTECT = 0), the Block Limits MAXIMUM TRANSFER LENGTH (INVALID FIELD IN CDB at the
 * length field), then the LBA range (LOGICAL BLOCK ADDRESS OUT OF RANGE).
 */
export function checkBlockCommand(ctx: CommandContext, blocks: number, protect: string): number {
  const { lu, fields, cdb } = ctx;
  if (num(fields[protect]) !== 0) throw invalidFieldInCdb(1, 7);
  if (lu.maximumTransferLength !== 0 && blocks > lu.maximumTransferLength)
    throw invalidFieldInCdb(lengthByte(cdbLengthForOpcode(cdb[0] ?? 0)));
  return checkRange(lu, fields.lba, blocks);
}

/** A then-able continuation that stays synchronous for synchronous stores. */
function then<T, R>(value: MaybePromise<T>, f: (v: T) => R | Promise<R>): MaybePromise<R> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/** READ(6/10/12/16) (SBC-5 5.14..5.17). */
export function read(ctx: CommandContext): MaybePromise<CommandResult> {
  const sixByte = ctx.cdb[0] === 0x08;
  const blocks = transferBlocks(ctx.fields, sixByte);
  const lba = sixByte
    ? checkRange(ctx.lu, ctx.fields.lba, blocks)
    : checkBlockCommand(ctx, blocks, 'rdprotect');
  if (blocks === 0) return {};
  checkMediumErrors(ctx.lu, lba, blocks, 'read');
  const store = ctx.lu.store;
  if (ctx.fields.fua === 1)
    return then(store.flush(), () => then(store.read(lba, blocks), (dataIn) => ({ dataIn })));
  return then(store.read(lba, blocks), (dataIn) => ({ dataIn }));
}

/** Writes `data` at `lba`, durable with FUA or when the write cache is disabled (WCE = 0). */
export function writeBlocks(
  lu: LogicalUnit,
  lba: number,
  data: Uint8Array,
  fua: boolean,
): MaybePromise<void> {
  return lu.store.write(lba, data, fua || !lu.modePages.writeCacheEnabled);
}

/** WRITE(6/10/12/16) (SBC-5 5.42..5.45). */
export function write(ctx: CommandContext): MaybePromise<CommandResult | undefined> {
  const sixByte = ctx.cdb[0] === 0x0a;
  const blocks = transferBlocks(ctx.fields, sixByte);
  const lba = sixByte
    ? checkRange(ctx.lu, ctx.fields.lba, blocks)
    : checkBlockCommand(ctx, blocks, 'wrprotect');
  if (blocks === 0) return undefined;
  checkMediumErrors(ctx.lu, lba, blocks, 'write');
  return then(writeBlocks(ctx.lu, lba, ctx.dataOut, ctx.fields.fua === 1), () => undefined);
}

/** First differing byte offset, or -1. */
export function firstDifference(a: Uint8Array, b: Uint8Array, aOffset = 0, length = b.length): number {
  for (let i = 0; i < length; i++) if (a[aOffset + i] !== b[i]) return aOffset + i;
  return -1;
}

/**
 * MISCOMPARE, MISCOMPARE DURING VERIFY OPERATION with INFORMATION = the offset of the first
 * byte that differs, counted from the start of the Data-Out Buffer (SBC-5 5.x VERIFY, COMPARE AND WRITE).
 */
export function miscompare(offset: number): CheckCondition {
  return new CheckCondition(SenseKey.MISCOMPARE, Asc.MISCOMPARE_DURING_VERIFY_OPERATION, {
    information: offset,
  });
}

/**
 * VERIFY(10/12/16) (SBC-5 5.34..5.36). BYTCHK 00b: medium verification only (a medium error
 * fault fails it); 01b: compare the Data-Out Buffer with the blocks; 11b: compare one block of
 * data-out with every block of the range; 10b is reserved (INVALID FIELD IN CDB, byte 1 bit 2).
 */
export function verify(ctx: CommandContext): MaybePromise<CommandResult | undefined> {
  const bytchk = num(ctx.fields.bytchk);
  if (bytchk === 2) throw invalidFieldInCdb(1, 2);
  const blocks = transferBlocks(ctx.fields, false);
  const lba = checkBlockCommand(ctx, blocks, 'vrprotect');
  if (blocks === 0) return undefined;
  checkMediumErrors(ctx.lu, lba, blocks, 'read');
  if (bytchk === 0) return undefined;
  const bs = ctx.lu.blockSize;
  return then(ctx.lu.store.read(lba, blocks), (medium) => {
    for (let b = 0; b < blocks; b++) {
      const expected = bytchk === 3 ? ctx.dataOut : ctx.dataOut.subarray(b * bs, (b + 1) * bs);
      const at = firstDifference(medium, expected, b * bs, bs);
      if (at >= 0) throw miscompare(bytchk === 3 ? at - b * bs : at);
    }
    return undefined;
  });
}

/** Data-out of VERIFY: none (BYTCHK 0), the blocks (1), one block (3). */
export function verifyDataOut(fields: FieldValues, lu: LogicalUnit): number {
  const bytchk = num(fields.bytchk);
  if (bytchk === 1) return transferBlocks(fields, false) * lu.blockSize;
  return bytchk === 3 ? lu.blockSize : 0;
}

/**
 * WRITE AND VERIFY(10/12/16) (SBC-5 5.46..5.48): the write is made durable, then verified;
 * BYTCHK 01b compares what the medium holds with the Data-Out Buffer; 10b and 11b are
 * INVALID FIELD IN CDB for this command.
 */
export function writeAndVerify(ctx: CommandContext): MaybePromise<CommandResult | undefined> {
  const bytchk = num(ctx.fields.bytchk);
  if (bytchk >= 2) throw invalidFieldInCdb(1, 2);
  const blocks = transferBlocks(ctx.fields, false);
  const lba = checkBlockCommand(ctx, blocks, 'wrprotect');
  if (blocks === 0) return undefined;
  checkMediumErrors(ctx.lu, lba, blocks, 'write');
  const data = ctx.dataOut;
  return then(ctx.lu.store.write(lba, data, true), () => {
    if (bytchk === 0) return undefined;
    return then(ctx.lu.store.read(lba, blocks), (medium) => {
      const at = firstDifference(medium, data);
      if (at >= 0) throw miscompare(at);
      return undefined;
    });
  });
}

/** The LBA range of a read/write/verify CDB, for restricted reordering. */
export function blockRange(writes: boolean, sixByte = false): (fields: FieldValues) => LbaRange {
  return (fields) => ({ lba: num(fields.lba), blocks: transferBlocks(fields, sixByte), writes });
}
