/**
 * Every sg v3 constant a program written against <scsi/sg.h> uses. The ones @sgv4/core
 * already defines (directions, flags, info bits, ioctl numbers, SG_MAX_QUEUE, the reserve
 * defaults) are re-exported from there; the rest are the sg driver's own (include/scsi/sg.h
 * and drivers/scsi/sg.c, Linux 6.1).
 * @module
 */
import {
  SG_DEF_RESERVED_SIZE,
  SG_FLAG_DIRECT_IO,
  SG_FLAG_MMAP_IO,
  SG_FLAG_NO_DXFER,
  SG_FLAG_Q_AT_HEAD,
  SG_FLAG_Q_AT_TAIL,
  SG_FLAG_UNUSED_LUN_INHIBIT,
} from '@sgv4/core';

export {
  SG_DEF_RESERVED_SIZE,
  SG_DXFER_FROM_DEV,
  SG_DXFER_NONE,
  SG_DXFER_TO_DEV,
  SG_DXFER_TO_FROM_DEV,
  SG_DXFER_UNKNOWN,
  SG_EMULATED_HOST,
  SG_FLAG_DIRECT_IO,
  SG_FLAG_MMAP_IO,
  SG_FLAG_NO_DXFER,
  SG_FLAG_Q_AT_HEAD,
  SG_FLAG_Q_AT_TAIL,
  SG_FLAG_UNUSED_LUN_INHIBIT,
  SG_GET_ACCESS_COUNT,
  SG_GET_COMMAND_Q,
  SG_GET_KEEP_ORPHAN,
  SG_GET_LOW_DMA,
  SG_GET_NUM_WAITING,
  SG_GET_PACK_ID,
  SG_GET_REQUEST_TABLE,
  SG_GET_RESERVED_SIZE,
  SG_GET_SCSI_ID,
  SG_GET_SG_TABLESIZE,
  SG_GET_TIMEOUT,
  SG_GET_TRANSFORM,
  SG_GET_VERSION_NUM,
  SG_INFO_CHECK,
  SG_INFO_DIRECT_IO,
  SG_INFO_DIRECT_IO_MASK,
  SG_INFO_INDIRECT_IO,
  SG_INFO_MIXED_IO,
  SG_INFO_OK,
  SG_INFO_OK_MASK,
  SG_INTERFACE_ID_ORIG,
  SG_IO,
  SG_MAX_CDB_SIZE,
  SG_MAX_DXFER_LEN,
  SG_MAX_QUEUE,
  SG_NEXT_CMD_LEN,
  SG_SCATTER_SZ,
  SG_SCSI_RESET,
  SG_SCSI_RESET_BUS,
  SG_SCSI_RESET_DEVICE,
  SG_SCSI_RESET_HOST,
  SG_SCSI_RESET_NO_ESCALATE,
  SG_SCSI_RESET_NOTHING,
  SG_SCSI_RESET_TARGET,
  SG_SET_COMMAND_Q,
  SG_SET_DEBUG,
  SG_SET_FORCE_LOW_DMA,
  SG_SET_FORCE_PACK_ID,
  SG_SET_KEEP_ORPHAN,
  SG_SET_RESERVED_SIZE,
  SG_SET_TIMEOUT,
  SG_SET_TRANSFORM,
  SZ_SG_HEADER,
} from '@sgv4/core';

/** glibc's name for {@link SG_FLAG_UNUSED_LUN_INHIBIT} (0x2; the 6.1 kernel never reads it). */
export const SG_FLAG_LUN_INHIBIT = SG_FLAG_UNUSED_LUN_INHIBIT;

/** Every SG_FLAG_* bit sg_io_hdr defines; sg 3.5.36 ignores any other bit of `flags`. */
export const SG_V3_FLAG_MASK =
  SG_FLAG_DIRECT_IO |
  SG_FLAG_UNUSED_LUN_INHIBIT |
  SG_FLAG_MMAP_IO |
  SG_FLAG_Q_AT_TAIL |
  SG_FLAG_Q_AT_HEAD |
  SG_FLAG_NO_DXFER;

/** The shortest CDB sg and block SG_IO accept (shorter -> EMSGSIZE). */
export const SG_MIN_CDB_SIZE = 6;
/** `sg_version_num` of the mainline sg driver in Linux 6.1: 30536 ("3.5.36"). */
export const SG_VERSION_NUM = 30536;
/** What block devices and bsg answer to SG_GET_VERSION_NUM (drivers/scsi/scsi_ioctl.c `sg_get_version()`). */
export const SG_BLOCK_VERSION_NUM = 30527;
/** `USER_HZ`: the unit of SG_SET_TIMEOUT / SG_GET_TIMEOUT (ticks of 10 ms). */
export const USER_HZ = 100;
/** `SG_DEFAULT_TIMEOUT_USER` = 60 * USER_HZ: an fd's default timeout, 60 s in USER_HZ ticks. */
export const SG_DEFAULT_TIMEOUT_USER = 60 * USER_HZ;
/** `SG_DEFAULT_RETRIES`: 0 in the kernel header (glibc's copy says 1). */
export const SG_DEFAULT_RETRIES = 0;
/** `SG_DEF_FORCE_PACK_ID`: read() ignores pack_id until SG_SET_FORCE_PACK_ID. */
export const SG_DEF_FORCE_PACK_ID = 0;
/** `SG_DEF_KEEP_ORPHAN`: an interrupted SG_IO's reply is dropped. */
export const SG_DEF_KEEP_ORPHAN = 0;
/** `SG_DEF_COMMAND_Q`: one outstanding request until a v3 header is written (then queueing is on). */
export const SG_DEF_COMMAND_Q = 0;
/** `SG_DEF_UNDERRUN_FLAG`. */
export const SG_DEF_UNDERRUN_FLAG = 0;
/** `SG_BIG_BUFF`: the old name of {@link SG_DEF_RESERVED_SIZE}. */
export const SG_BIG_BUFF = SG_DEF_RESERVED_SIZE;
/** `SG_MAX_SENSE`: sense bytes of the old sg_header interface (16). */
export const SG_MAX_SENSE = 16;

/**
 * The shifted status values `masked_status` holds, `(status >> 1) & 0x7f` (include/scsi/sg.h,
 * the pre-SCSI-3 names): CHECK CONDITION (0x02) is 0x01, and so on.
 */
export const MaskedStatus = {
  GOOD: 0x00,
  CHECK_CONDITION: 0x01,
  CONDITION_GOOD: 0x02,
  BUSY: 0x04,
  INTERMEDIATE_GOOD: 0x08,
  INTERMEDIATE_C_GOOD: 0x0a,
  RESERVATION_CONFLICT: 0x0c,
  COMMAND_TERMINATED: 0x11,
  QUEUE_FULL: 0x14,
  ACA_ACTIVE: 0x18,
  TASK_ABORTED: 0x20,
} as const;

/** `status_byte(result)` as include/scsi/sg.h defines it: the masked status of a SCSI status byte. */
export function maskedStatusOf(status: number): number {
  return (status >> 1) & 0x7f;
}

const DIRECTION_NAMES: ReadonlyMap<number, string> = new Map([
  [-1, 'SG_DXFER_NONE'],
  [-2, 'SG_DXFER_TO_DEV'],
  [-3, 'SG_DXFER_FROM_DEV'],
  [-4, 'SG_DXFER_TO_FROM_DEV'],
  [-5, 'SG_DXFER_UNKNOWN'],
]);

/** `SG_DXFER_FROM_DEV` for -3, etc.; other values as `dxfer_direction <n>`. */
export function sgDxferDirectionName(direction: number): string {
  return DIRECTION_NAMES.get(direction) ?? `dxfer_direction ${direction}`;
}
