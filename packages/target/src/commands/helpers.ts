/**
 * Small rules shared by command handlers: ALLOCATION LENGTH truncation (SPC-6 4.2.5.6),
 * LBA range checks (SBC-5 4.5), reading numeric CDB fields, medium error faults.
 * @module
 */
import { type FieldValue, SenseKey } from '@sgv4/core';
import type { LogicalUnit } from '../logical-unit/logical-unit.js';
import { Asc } from '../sense/additional-sense.js';
import { CheckCondition, lbaOutOfRange } from '../sense/check-condition.js';

/**
 * The response cut to the ALLOCATION LENGTH: "the device server shall terminate transfers
 * to the Data-In Buffer when the number of bytes specified by the ALLOCATION LENGTH field
 * have been transferred or when all available data have been transferred, whichever is less"
 * (SPC-6 4.2.5.6). An allocation length of 0 is not an error.
 */
export function allocate(data: Uint8Array, allocationLength: number): Uint8Array {
  return allocationLength >= data.length ? data : data.subarray(0, allocationLength);
}

/** A CDB field as a number (fields wider than 32 bits decode as bigint). */
export function num(v: FieldValue | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  return 0;
}

/** A CDB field as a bigint. */
export function big(v: FieldValue | undefined): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  return 0n;
}

/**
 * Checks `lba .. lba + blocks` against the capacity: LOGICAL BLOCK ADDRESS OUT OF RANGE when
 * the range ends beyond the last LBA (SBC-5 4.5; libiscsi `*BeyondEol` tests). Returns the
 * LBA as a number (it is below the capacity, so it is safe).
 */
export function checkRange(lu: LogicalUnit, lba: FieldValue | undefined, blocks: number): number {
  const start = big(lba);
  if (start + BigInt(blocks) > BigInt(lu.capacity)) throw lbaOutOfRange();
  return Number(start);
}

/**
 * The medium error fault: the first bad LBA of `lba .. lba + blocks` for `access`, as
 * MEDIUM ERROR with INFORMATION = that LBA (SBC-5 4.18.1): UNRECOVERED READ ERROR (11/00)
 * for reads, WRITE ERROR (0C/00) for writes.
 */
export function checkMediumErrors(
  lu: LogicalUnit,
  lba: number,
  blocks: number,
  access: 'read' | 'write',
): void {
  for (const span of lu.knobs.faults.mediumErrors) {
    if (span.on !== 'both' && span.on !== access) continue;
    if (span.lba < lba + blocks && lba < span.end) {
      const first = Math.max(span.lba, lba);
      throw new CheckCondition(
        SenseKey.MEDIUM_ERROR,
        access === 'read' ? Asc.UNRECOVERED_READ_ERROR : Asc.WRITE_ERROR,
        { information: first },
      );
    }
  }
}
