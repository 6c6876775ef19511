/**
 * SYNCHRONIZE CACHE(10/16) and PRE-FETCH(10/16) (SBC-5 5.24, 5.25, 5.10, 5.11).
 * @module
 */
import { ScsiStatus } from '@sgv4/core';
import type { MaybePromise } from '../storage/block-store.js';
import type { CommandContext, CommandResult } from './command-context.js';
import { big, checkRange, num } from './helpers.js';

/** NUMBER OF LOGICAL BLOCKS / PREFETCH LENGTH: 0 means "to the last LBA" (SBC-5 5.24.1). */
function blocksToEnd(ctx: CommandContext, n: number): number {
  if (n !== 0) return n;
  const lba = big(ctx.fields.lba);
  return lba >= BigInt(ctx.lu.capacity) ? 0 : ctx.lu.capacity - Number(lba);
}

/**
 * SYNCHRONIZE CACHE: the range is checked (LBA OUT OF RANGE), then the store is flushed
 * (fdatasync for file backing). With IMMED = 1 GOOD is returned once the CDB is validated and
 * the flush runs on (SBC-5 5.24.1).
 */
export function synchronizeCache(ctx: CommandContext): MaybePromise<CommandResult | undefined> {
  checkRange(ctx.lu, ctx.fields.lba, blocksToEnd(ctx, num(ctx.fields.numberOfBlocks)));
  const flush = ctx.lu.store.flush();
  if (ctx.fields.immed === 1 || !(flush instanceof Promise)) {
    if (flush instanceof Promise) flush.catch(() => undefined);
    return undefined;
  }
  return flush.then(() => undefined);
}

/**
 * PRE-FETCH: after the range check, CONDITION MET, which means every requested block is in
 * the cache (SBC-5 5.10.1): true for the memory store, and for the file store the blocks are a
 * page-cache read away, so they are read (IMMED = 0) before answering.
 */
export function preFetch(ctx: CommandContext): MaybePromise<CommandResult> {
  const blocks = blocksToEnd(ctx, num(ctx.fields.prefetchLength));
  const lba = checkRange(ctx.lu, ctx.fields.lba, blocks);
  const done: CommandResult = { status: ScsiStatus.CONDITION_MET };
  if (blocks === 0 || ctx.fields.immed === 1) return done;
  const r = ctx.lu.store.read(lba, Math.min(blocks, 2048));
  return r instanceof Promise ? r.then(() => done) : done;
}
