/**
 * Logical block provisioning and the commands that write patterns: WRITE SAME(10/16), UNMAP,
 * GET LBA STATUS (SBC-5 4.7, 5.50, 5.51, 5.32, 5.8), and COMPARE AND WRITE (SBC-5 5.3).
 * @module
 */
import {
  decodeTable,
  encodeTable,
  type FieldValues,
  LBA_STATUS_DESCRIPTOR,
  LBA_STATUS_HEADER,
  UNMAP_BLOCK_DESCRIPTOR,
} from '@sgv4/core';
import type { LogicalUnit } from '../logical-unit/logical-unit.js';
import {
  invalidFieldInCdb,
  invalidFieldInParameterList,
  invalidOperationCode,
  lbaOutOfRange,
  parameterListLengthError,
} from '../sense/check-condition.js';
import type { MaybePromise } from '../storage/block-store.js';
import type { CommandContext, CommandResult, LbaRange } from './command-context.js';
import { allocate, big, checkMediumErrors, checkRange, num } from './helpers.js';
import {
  MAX_COMPARE_AND_WRITE_BLOCKS,
  MAX_UNMAP_DESCRIPTORS,
  MAX_UNMAP_LBA_COUNT,
  MAX_WRITE_SAME_BLOCKS,
} from './inquiry.js';
import { checkBlockCommand, firstDifference, miscompare, writeBlocks } from './read-write.js';

/** Runs `steps` one after another, staying synchronous as long as every step is. */
function sequence(steps: (() => MaybePromise<void>)[]): MaybePromise<void> {
  for (let i = 0; i < steps.length; i++) {
    const r = (steps[i] as () => MaybePromise<void>)();
    if (r instanceof Promise) {
      return r.then(() => sequence(steps.slice(i + 1)));
    }
  }
}

/** Blocks WRITE SAME covers: NUMBER OF LOGICAL BLOCKS, or with 0 (WSNZ = 0) up to the last LBA. */
function writeSameBlocks(fields: FieldValues, lu: LogicalUnit): number {
  const n = num(fields.numberOfBlocks);
  if (n !== 0) return n;
  const lba = big(fields.lba);
  return lba >= BigInt(lu.capacity) ? 0 : lu.capacity - Number(lba);
}

/** The range WRITE SAME writes, for ordering. */
export function writeSameRange(fields: FieldValues, lu: LogicalUnit): LbaRange {
  return { lba: num(fields.lba), blocks: writeSameBlocks(fields, lu), writes: true };
}

/** Data-out of WRITE SAME: one block, none with NDOB (SBC-5 5.51). */
export function writeSameDataOut(fields: FieldValues, lu: LogicalUnit): number {
  return fields.ndob === 1 ? 0 : lu.blockSize;
}

/**
 * WRITE SAME(10/16): WRPROTECT != 0 and ANCHOR = 1 (ANC_SUP = 0) are INVALID FIELD IN CDB;
 * UNMAP = 1 on a fully provisioned LU likewise (LBPWS = 0: libiscsi `WriteSame*.UnmapVPD`);
 * more than MAXIMUM WRITE SAME LENGTH blocks is INVALID FIELD IN CDB. With UNMAP = 1 and a
 * block of zeros (what a deallocated block reads as, LBPRZ = 1) the range is deallocated,
 * otherwise the pattern is written (SBC-5 4.7.3.x).
 */
export function writeSame(ctx: CommandContext): MaybePromise<CommandResult | undefined> {
  const { lu, fields } = ctx;
  const sixteen = ctx.cdb[0] === 0x93;
  if (num(fields.wrprotect) !== 0) throw invalidFieldInCdb(1, 7);
  if (fields.anchor === 1) throw invalidFieldInCdb(1, 4);
  if (fields.unmap === 1 && !lu.thin) throw invalidFieldInCdb(1, 3);
  const blocks = writeSameBlocks(fields, lu);
  if (blocks > MAX_WRITE_SAME_BLOCKS) throw invalidFieldInCdb(sixteen ? 10 : 7);
  const lba = checkRange(lu, fields.lba, blocks);
  if (blocks === 0) return undefined;
  checkMediumErrors(lu, lba, blocks, 'write');
  const pattern = fields.ndob === 1 ? new Uint8Array(lu.blockSize) : ctx.dataOut;
  if (fields.unmap === 1 && pattern.every((b) => b === 0)) {
    const r = lu.store.unmap(lba, blocks);
    return r instanceof Promise ? r.then(() => undefined) : undefined;
  }
  // Write the pattern in pieces of at most 1 MiB.
  const perPiece = Math.max(1, Math.min(blocks, Math.floor((1 << 20) / lu.blockSize)));
  const piece = new Uint8Array(perPiece * lu.blockSize);
  for (let i = 0; i < perPiece; i++) piece.set(pattern, i * lu.blockSize);
  const steps: (() => MaybePromise<void>)[] = [];
  for (let done = 0; done < blocks; done += perPiece) {
    const n = Math.min(perPiece, blocks - done);
    steps.push(() => writeBlocks(lu, lba + done, piece.subarray(0, n * lu.blockSize), false));
  }
  const r = sequence(steps);
  return r instanceof Promise ? r.then(() => undefined) : undefined;
}

/** Data-out of UNMAP: the PARAMETER LIST LENGTH. */
export function unmapDataOut(fields: FieldValues): number {
  return num(fields.parameterListLength);
}

/**
 * UNMAP (SBC-5 5.32): only on a thin provisioned LU (else INVALID COMMAND OPERATION CODE: the
 * command is not supported, LBPU = 0). ANCHOR = 1 is INVALID FIELD IN CDB. A PARAMETER LIST
 * LENGTH of 0 transfers nothing; 1..7 is PARAMETER LIST LENGTH ERROR. Every descriptor is
 * checked before anything is deallocated: more than MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT
 * descriptors or MAXIMUM UNMAP LBA COUNT blocks is INVALID FIELD IN PARAMETER LIST, a range
 * beyond the last LBA is LBA OUT OF RANGE.
 */
export function unmap(ctx: CommandContext): MaybePromise<CommandResult | undefined> {
  const { lu, fields, dataOut } = ctx;
  if (!lu.thin) throw invalidOperationCode();
  if (fields.anchor === 1) throw invalidFieldInCdb(1, 0);
  const length = num(fields.parameterListLength);
  if (length === 0) return undefined;
  if (length < 8) throw parameterListLengthError(7);
  const descriptorBytes = Math.min(((dataOut[2] ?? 0) << 8) | (dataOut[3] ?? 0), length - 8);
  const count = Math.floor(descriptorBytes / 16);
  if (count > MAX_UNMAP_DESCRIPTORS) throw invalidFieldInParameterList(2);
  const ranges: { lba: number; blocks: number }[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const d = decodeTable(UNMAP_BLOCK_DESCRIPTOR, dataOut, 8 + 16 * i, 16);
    const blocks = num(d.numberOfBlocks);
    const lba = checkRange(lu, d.lba, blocks);
    total += blocks;
    if (total > MAX_UNMAP_LBA_COUNT) throw invalidFieldInParameterList(8 + 16 * i + 8);
    if (blocks > 0) ranges.push({ lba, blocks });
  }
  const r = sequence(ranges.map((x) => () => lu.store.unmap(x.lba, x.blocks)));
  return r instanceof Promise ? r.then(() => undefined) : undefined;
}

/** PROVISIONING STATUS values (SBC-5 5.8.3). */
const MAPPED = 0;
const DEALLOCATED = 1;

/**
 * GET LBA STATUS (SBC-5 5.8): a STARTING LOGICAL BLOCK ADDRESS beyond the last LBA is LBA OUT
 * OF RANGE (the check tgt misses: libiscsi `GetLBAStatus.BeyondEol`). Returns one descriptor
 * per run of blocks with the same provisioning status, from the starting LBA, as many as the
 * ALLOCATION LENGTH holds (at least one); REPORT TYPE 1 lists only mapped runs, 2 only
 * deallocated ones, 3 (anchored) none.
 */
export function getLbaStatus(ctx: CommandContext): MaybePromise<CommandResult> {
  const { lu, fields } = ctx;
  const start = big(fields.lba);
  if (start >= BigInt(lu.capacity)) throw lbaOutOfRange();
  const allocationLength = num(fields.allocationLength);
  const reportType = num(fields.reportType);
  const room = Math.max(1, Math.min(256, Math.floor((allocationLength - 8) / 16)));
  const runs: { lba: number; blocks: number; status: number }[] = [];
  const collect = (lba: number): MaybePromise<void> => {
    while (runs.length < room && lba < lu.capacity) {
      const max = Math.min(0xffff_ffff, lu.capacity - lba);
      const run = lu.thin ? lu.store.provisioning(lba, max) : { mapped: true, blocks: max };
      if (run instanceof Promise) {
        return run.then((r) => {
          push(lba, r.mapped, r.blocks);
          return collect(lba + r.blocks);
        });
      }
      push(lba, run.mapped, run.blocks);
      lba += run.blocks;
    }
  };
  const push = (lba: number, mapped: boolean, blocks: number): void => {
    const status = mapped ? MAPPED : DEALLOCATED;
    if (reportType === 0 || (reportType === 1 && mapped) || (reportType === 2 && !mapped))
      runs.push({ lba, blocks, status });
  };
  const build = (): CommandResult => {
    const data = new Uint8Array(8 + 16 * runs.length);
    encodeTable(LBA_STATUS_HEADER, { parameterDataLength: data.length - 4 }, data, 0);
    runs.forEach((r, i) => {
      encodeTable(
        LBA_STATUS_DESCRIPTOR,
        { lba: BigInt(r.lba), numberOfBlocks: r.blocks, provisioningStatus: r.status },
        data,
        8 + 16 * i,
      );
    });
    return { dataIn: allocate(data, allocationLength) };
  };
  const r = collect(Number(start));
  return r instanceof Promise ? r.then(build) : build();
}

/** Data-out of COMPARE AND WRITE: the verify instance then the write instance, 2 x NUMBER OF LOGICAL BLOCKS. */
export function compareAndWriteDataOut(fields: FieldValues, lu: LogicalUnit): number {
  return 2 * num(fields.numberOfBlocks) * lu.blockSize;
}

/**
 * COMPARE AND WRITE (SBC-5 5.3): atomically compares the blocks with the verify instance and,
 * when equal, writes the write instance (FUA honoured). A difference is MISCOMPARE, 1D/00 with
 * INFORMATION = offset of the first differing byte within the Data-Out Buffer, and nothing is
 * written. More than MAXIMUM COMPARE AND WRITE LENGTH blocks is INVALID FIELD IN CDB (byte 13).
 * Atomicity: the task scheduler never runs another task whose range overlaps it at the same time.
 */
export function compareAndWrite(ctx: CommandContext): MaybePromise<CommandResult | undefined> {
  const { lu, fields } = ctx;
  const blocks = num(fields.numberOfBlocks);
  if (blocks > MAX_COMPARE_AND_WRITE_BLOCKS) throw invalidFieldInCdb(13);
  const lba = checkBlockCommand(ctx, blocks, 'wrprotect');
  if (blocks === 0) return undefined;
  checkMediumErrors(lu, lba, blocks, 'read');
  const bytes = blocks * lu.blockSize;
  const verifyInstance = ctx.dataOut.subarray(0, bytes);
  const writeInstance = ctx.dataOut.subarray(bytes, 2 * bytes);
  const compare = (medium: Uint8Array): MaybePromise<undefined> => {
    const at = firstDifference(medium, verifyInstance);
    if (at >= 0) throw miscompare(at);
    checkMediumErrors(lu, lba, blocks, 'write');
    const w = writeBlocks(lu, lba, writeInstance, fields.fua === 1);
    return w instanceof Promise ? w.then(() => undefined) : undefined;
  };
  const medium = lu.store.read(lba, blocks);
  return medium instanceof Promise ? medium.then(compare) : compare(medium);
}
