/**
 * READ CAPACITY(10) and (16) (SBC-5 5.20, 5.21).
 * @module
 */
import { encodeTable, READ_CAPACITY10_DATA, READ_CAPACITY16_DATA } from '@sgv4/core';
import { invalidFieldInCdb } from '../sense/check-condition.js';
import type { CommandContext, CommandResult } from './command-context.js';
import { allocate, big, num } from './helpers.js';

/**
 * READ CAPACITY(10): the last LBA (FFFFFFFFh when it does not fit, telling the initiator to use
 * READ CAPACITY(16)) and the block length. The obsolete PMI/LBA pair: LBA non-zero with PMI 0
 * is INVALID FIELD IN CDB (SBC-3 5.15.1, kept by libiscsi's ReadCapacity10 tests).
 */
export function readCapacity10(ctx: CommandContext): CommandResult {
  const f = ctx.fields;
  if (f.pmi === 0 && num(f.lba) !== 0) throw invalidFieldInCdb(2);
  const last = ctx.lu.capacity - 1;
  return {
    dataIn: encodeTable(READ_CAPACITY10_DATA, {
      returnedLba: last > 0xffff_fffe ? 0xffff_ffff : last,
      blockLength: ctx.lu.blockSize,
    }),
  };
}

/**
 * READ CAPACITY(16): last LBA, block length, LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT from
 * the QueueLimits physical block size, LBPME and LBPRZ when thin provisioned (SBC-5 4.7),
 * RC BASIS 01b (the returned LBA is the last LBA of the logical unit).
 */
export function readCapacity16(ctx: CommandContext): CommandResult {
  const { lu, fields: f } = ctx;
  if (f.pmi === 0 && big(f.lba) !== 0n) throw invalidFieldInCdb(2);
  const exponent = Math.log2(Math.max(1, lu.queueLimits.physicalBlockSize / lu.blockSize));
  const data = encodeTable(READ_CAPACITY16_DATA, {
    returnedLba: BigInt(lu.capacity - 1),
    blockLength: lu.blockSize,
    rcBasis: 1,
    logicalBlocksPerPhysicalBlockExponent: exponent,
    lbpme: lu.thin ? 1 : 0,
    lbprz: lu.thin ? 1 : 0,
  });
  return { dataIn: allocate(data, num(f.allocationLength)) };
}
