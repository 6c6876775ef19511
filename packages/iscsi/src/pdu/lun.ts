/**
 * LUN numbers and the 8-byte LUN field of iSCSI PDUs (RFC 7143 §11.2.1.5 carries the SAM
 * LUN structure unchanged).
 *
 * A LUN number maps to the wire as Linux maps it (drivers/scsi/scsi_common.c
 * `int_to_scsilun` / `scsilun_to_int`): each 16-bit piece of the number, lowest first, fills
 * one 2-byte addressing level. So LUN 1 is `00 01 00 00 00 00 00 00` (peripheral device
 * addressing, SAM-5 4.7.7.3), and a flat-space LUN shows its addressing method in the number
 * (16640 = 0x4100 is flat-space LUN 256). libiscsi does the same for the first level
 * (lib/pdu.c `iscsi_pdu_set_lun`), so `iscsi://host/iqn/N` means the same LU to both.
 * @module
 */
import { InvalidFieldError } from '@sgv4/core';

/** A LUN: a number (Linux's integer form) or the raw 64-bit field as a bigint. */
export type Lun = number | bigint;

/**
 * The 64-bit LUN field for `lun`. A number goes through `int_to_scsilun`; a bigint is the field
 * itself (already in wire order, first byte most significant).
 */
export function lunField(lun: Lun): bigint {
  if (typeof lun === 'bigint') {
    if (lun < 0n || lun > 0xffff_ffff_ffff_ffffn)
      throw new InvalidFieldError('lun', 'must be a bigint in 0..2^64-1', lun);
    return lun;
  }
  if (!Number.isSafeInteger(lun) || lun < 0) {
    throw new InvalidFieldError(
      'lun',
      'must be an integer in 0..2^53-1 (or the raw 64-bit field as a bigint)',
      lun,
    );
  }
  let rest = BigInt(lun);
  let out = 0n;
  for (let level = 0; level < 4; level++) {
    out |= (rest & 0xffffn) << BigInt(48 - level * 16);
    rest >>= 16n;
  }
  return out;
}

/** The LUN number of a 64-bit field (`scsilun_to_int`): levels' 16-bit values, first level lowest. */
export function lunNumber(fieldValue: bigint): bigint {
  let out = 0n;
  for (let level = 0; level < 4; level++) {
    out |= ((fieldValue >> BigInt(48 - level * 16)) & 0xffffn) << BigInt(level * 16);
  }
  return out;
}
