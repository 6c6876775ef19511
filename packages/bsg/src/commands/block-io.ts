/**
 * The SBC-5 data commands for one request: READ and WRITE (10 or 16, whichever the range needs),
 * VERIFY, WRITE SAME, COMPARE AND WRITE, SYNCHRONIZE CACHE and UNMAP. {@link Device.read} and
 * {@link Device.write} split larger transfers with the core's `splitLargeTransfer`.
 * @module
 */
import { buildCdb, buildUnmapParameterList, InvalidFieldError, type UnmapRange } from '@sgv4/core';
import type { ScsiCommand } from './command.js';

/** Flags READ and WRITE take (SBC-5 5.x byte 1). */
export interface ReadWriteFlags {
  /** FUA: force unit access (the device must not answer from or leave data only in its cache). */
  readonly fua?: boolean;
  /** DPO: disable page out (do not keep the data in cache). */
  readonly dpo?: boolean;
}

/** The largest LBA a 10-byte READ/WRITE addresses (32-bit field). */
const MAX_LBA_10 = 0xffff_ffffn;

function checkRange(lba: bigint, blocks: number, max: number): void {
  if (typeof lba !== 'bigint' || lba < 0n || lba > 0xffff_ffff_ffff_ffffn) {
    throw new InvalidFieldError('lba', 'must be a bigint in 0..2^64-1', lba);
  }
  if (!Number.isInteger(blocks) || blocks < 1 || blocks > max) {
    throw new InvalidFieldError('blocks', `must be an integer in 1..${max}`, blocks);
  }
}

/** True when READ/WRITE(10) can carry the range: LBA and last LBA below 2^32, at most 65535 blocks. */
export function fitsTenByteCdb(lba: bigint, blocks: number): boolean {
  return blocks <= 0xffff && lba + BigInt(blocks) - 1n <= MAX_LBA_10;
}

/**
 * The CDB of READ or WRITE (10 or 16, whichever the range needs), written byte by byte for the
 * data path: the layout of the core's `read10`/`read16`/`write10`/`write16` tables (SBC-5 5.15,
 * 5.18, 5.40, 5.43: DPO bit 4 and FUA bit 3 of byte 1; LBA from byte 2, big-endian; TRANSFER
 * LENGTH in bytes 7..8 for (10), 10..13 for (16)). A unit test holds it byte-equal to the
 * tables' `buildCdb` output.
 */
export function readWriteCdb(
  write: boolean,
  lba: bigint,
  blocks: number,
  flags: ReadWriteFlags = {},
): Uint8Array {
  checkRange(lba, blocks, 0xffff_ffff);
  const flagByte = (flags.dpo ? 0x10 : 0) | (flags.fua ? 0x08 : 0);
  if (fitsTenByteCdb(lba, blocks)) {
    const cdb = new Uint8Array(10);
    const n = Number(lba);
    cdb[0] = write ? 0x2a : 0x28;
    cdb[1] = flagByte;
    cdb[2] = n >>> 24;
    cdb[3] = (n >>> 16) & 0xff;
    cdb[4] = (n >>> 8) & 0xff;
    cdb[5] = n & 0xff;
    cdb[7] = blocks >>> 8;
    cdb[8] = blocks & 0xff;
    return cdb;
  }
  const cdb = new Uint8Array(16);
  const view = new DataView(cdb.buffer);
  cdb[0] = write ? 0x8a : 0x88;
  cdb[1] = flagByte;
  view.setBigUint64(2, lba);
  view.setUint32(10, blocks);
  return cdb;
}

/** READ(10) or READ(16) of `blocks` blocks into `buffer` (exactly blocks x block size bytes). */
export function readCommand(
  lba: bigint,
  blocks: number,
  buffer: Uint8Array,
  flags: ReadWriteFlags = {},
): ScsiCommand<Uint8Array> {
  const cdb = readWriteCdb(false, lba, blocks, flags);
  return { name: cdb.length === 10 ? 'READ(10)' : 'READ(16)', cdb, dataIn: buffer, parse: (data) => data };
}

/** WRITE(10) or WRITE(16) of `data` (a whole number of blocks) at `lba`. */
export function writeCommand(
  lba: bigint,
  blocks: number,
  data: Uint8Array,
  flags: ReadWriteFlags = {},
): ScsiCommand<void> {
  const cdb = readWriteCdb(true, lba, blocks, flags);
  return { name: cdb.length === 10 ? 'WRITE(10)' : 'WRITE(16)', cdb, dataOut: data, parse: () => undefined };
}

/**
 * VERIFY(10)/(16) (SBC-5 5.38): BYTCHK 0 checks the medium only; with `data` (BYTCHK 1) the
 * device compares it with the blocks and answers MISCOMPARE on a difference.
 */
export function verifyCommand(lba: bigint, blocks: number, data?: Uint8Array): ScsiCommand<void> {
  checkRange(lba, blocks, 0xffff_ffff);
  const ten = fitsTenByteCdb(lba, blocks);
  return {
    name: ten ? 'VERIFY(10)' : 'VERIFY(16)',
    cdb: buildCdb(ten ? 'verify10' : 'verify16', {
      lba: ten ? Number(lba) : lba,
      verificationLength: blocks,
      bytchk: data === undefined ? 0 : 1,
    }),
    ...(data !== undefined ? { dataOut: data } : {}),
    parse: () => undefined,
  };
}

/** WRITE SAME options (SBC-5 5.45, 5.46). */
export interface WriteSameOptions {
  /** UNMAP: deallocate the blocks (thin provisioning) instead of writing them. */
  readonly unmap?: boolean;
  /** ANCHOR: anchor instead of deallocate. */
  readonly anchor?: boolean;
}

/** WRITE SAME(10)/(16): `block` (one logical block) written to `blocks` blocks from `lba`. */
export function writeSameCommand(
  lba: bigint,
  blocks: number,
  block: Uint8Array,
  options: WriteSameOptions = {},
): ScsiCommand<void> {
  checkRange(lba, blocks, 0xffff_ffff);
  const ten = fitsTenByteCdb(lba, blocks);
  return {
    name: ten ? 'WRITE SAME(10)' : 'WRITE SAME(16)',
    cdb: buildCdb(ten ? 'write-same10' : 'write-same16', {
      lba: ten ? Number(lba) : lba,
      numberOfBlocks: blocks,
      unmap: options.unmap ?? false,
      anchor: options.anchor ?? false,
    }),
    dataOut: block,
    parse: () => undefined,
  };
}

/**
 * COMPARE AND WRITE (SBC-5 5.3): atomically compares `blocks` blocks at `lba` with `compare`
 * and, only when equal, writes `write` there; a difference is CHECK CONDITION, MISCOMPARE
 * (DeviceError) with the offset of the first differing byte in INFORMATION.
 */
export function compareAndWriteCommand(
  lba: bigint,
  blocks: number,
  compare: Uint8Array,
  write: Uint8Array,
  flags: ReadWriteFlags = {},
): ScsiCommand<void> {
  checkRange(lba, blocks, 0xff);
  if (compare.length !== write.length || compare.length === 0) {
    throw new InvalidFieldError(
      'write',
      'must have the same non-zero length as compare (blocks x block size)',
      write.length,
    );
  }
  const dataOut = new Uint8Array(compare.length * 2);
  dataOut.set(compare, 0);
  dataOut.set(write, compare.length);
  return {
    name: 'COMPARE AND WRITE',
    cdb: buildCdb('compare-and-write', {
      lba,
      numberOfBlocks: blocks,
      fua: flags.fua ? 1 : 0,
      dpo: flags.dpo ? 1 : 0,
    }),
    dataOut,
    parse: () => undefined,
  };
}

/** SYNCHRONIZE CACHE(10)/(16) (SBC-5 5.24): the whole medium by default (LBA 0, 0 blocks). */
export function synchronizeCacheCommand(lba = 0n, blocks = 0, immediate = false): ScsiCommand<void> {
  if (typeof lba !== 'bigint' || lba < 0n) throw new InvalidFieldError('lba', 'must be a bigint >= 0', lba);
  if (!Number.isInteger(blocks) || blocks < 0 || blocks > 0xffff_ffff) {
    throw new InvalidFieldError('blocks', 'must be an integer in 0..4294967295 (0 = to the end)', blocks);
  }
  const ten = blocks <= 0xffff && lba <= MAX_LBA_10;
  return {
    name: ten ? 'SYNCHRONIZE CACHE(10)' : 'SYNCHRONIZE CACHE(16)',
    cdb: buildCdb(ten ? 'sync-cache10' : 'sync-cache16', {
      lba: ten ? Number(lba) : lba,
      numberOfBlocks: blocks,
      immed: immediate,
    }),
    parse: () => undefined,
  };
}

/** UNMAP (SBC-5 5.32) of the given ranges. */
export function unmapCommand(ranges: readonly UnmapRange[]): ScsiCommand<void> {
  if (ranges.length === 0)
    throw new InvalidFieldError('ranges', 'must name at least one range', ranges.length);
  const list = buildUnmapParameterList(ranges);
  return {
    name: 'UNMAP',
    cdb: buildCdb('unmap', { parameterListLength: list.length }),
    dataOut: list,
    parse: () => undefined,
  };
}
