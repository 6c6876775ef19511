/**
 * ioctl request numbers of the sg driver and the block layer that {@link ScsiHandle}
 * issues (include/scsi/sg.h, include/uapi/linux/fs.h in Linux 6.1). They are plain
 * numbers, not _IOC-encoded.
 * @module
 */

/** The sg ioctl numbers the addon accepts (Linux 6.1 include/scsi/sg.h; drivers/scsi/sg.c `sg_ioctl_common`). */
export const SgIoctl = {
  SG_SET_TIMEOUT: 0x2201,
  SG_GET_TIMEOUT: 0x2202,
  SG_EMULATED_HOST: 0x2203,
  SG_GET_COMMAND_Q: 0x2270,
  SG_SET_COMMAND_Q: 0x2271,
  SG_GET_RESERVED_SIZE: 0x2272,
  SG_SET_RESERVED_SIZE: 0x2275,
  SG_GET_SCSI_ID: 0x2276,
  SG_GET_LOW_DMA: 0x227a,
  SG_SET_FORCE_PACK_ID: 0x227b,
  SG_GET_PACK_ID: 0x227c,
  SG_GET_NUM_WAITING: 0x227d,
  SG_GET_SG_TABLESIZE: 0x227f,
  SG_GET_VERSION_NUM: 0x2282,
  SG_SCSI_RESET: 0x2284,
  SG_IO: 0x2285,
  SG_GET_REQUEST_TABLE: 0x2286,
  SG_SET_KEEP_ORPHAN: 0x2287,
  SG_GET_KEEP_ORPHAN: 0x2288,
  SG_GET_ACCESS_COUNT: 0x2289,
} as const;

/** SG_SCSI_RESET argument values (include/scsi/sg.h). */
export const SgScsiReset = {
  NOTHING: 0,
  DEVICE: 1,
  BUS: 2,
  HOST: 3,
  TARGET: 4,
  /** OR-able: do not escalate a failed reset to the next level. */
  NO_ESCALATE: 0x100,
} as const;
