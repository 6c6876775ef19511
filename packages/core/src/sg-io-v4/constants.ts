/**
 * Constants of the sg_io_v4 (bsg, sg v4) and sg_io_hdr (sg v3) interfaces.
 *
 * Values from Linux 6.1 include/uapi/linux/bsg.h and include/scsi/sg.h, plus the
 * out-of-tree sg v4 driver's additions (sg3_utils testing/uapi_sg.h, sg 4.0.47).
 * @module
 */

/** `guard` of an sg_io_v4 header: `'Q'` (bsg.c rejects anything else with EINVAL). */
export const SG_IO_V4_GUARD = 0x51;
/** `interface_id` of an sg_io_hdr: `'S'`. */
export const SG_INTERFACE_ID_ORIG = 0x53;

/** `protocol`: SCSI (the only one Linux defines). */
export const BSG_PROTOCOL_SCSI = 0;
/** `subprotocol`: a SCSI command (the only one 6.1 scsi_bsg accepts). */
export const BSG_SUB_PROTOCOL_SCSI_CMD = 0;
/** `subprotocol`: a task management function (defined, rejected with EINVAL by 6.1 scsi_bsg). */
export const BSG_SUB_PROTOCOL_SCSI_TMF = 1;
/** `subprotocol`: a transport-layer request (FC/SAS/iSCSI bsg-lib nodes; needs CAP_SYS_RAWIO). */
export const BSG_SUB_PROTOCOL_SCSI_TRANSPORT = 2;

/** bsg `flags`: queue at the tail (bsg's default is head). */
export const BSG_FLAG_Q_AT_TAIL = 0x10;
/** bsg `flags`: queue at the head (a no-op in 6.1: head is already the default). */
export const BSG_FLAG_Q_AT_HEAD = 0x20;

/** sg_io_hdr `dxfer_direction`: no data (e.g. TEST UNIT READY). */
export const SG_DXFER_NONE = -1;
/** sg_io_hdr `dxfer_direction`: data to the device (e.g. WRITE). */
export const SG_DXFER_TO_DEV = -2;
/** sg_io_hdr `dxfer_direction`: data from the device (e.g. READ). */
export const SG_DXFER_FROM_DEV = -3;
/** sg_io_hdr `dxfer_direction`: like FROM_DEV, but the buffer is copied to the kernel first (indirect IO). */
export const SG_DXFER_TO_FROM_DEV = -4;
/** sg_io_hdr `dxfer_direction`: unknown direction (kernel header only; disables direct IO). */
export const SG_DXFER_UNKNOWN = -5;

/** sg_io_hdr `flags`: request direct IO (used only if allow_dio=1 and aligned; else silently indirect). */
export const SG_FLAG_DIRECT_IO = 0x1;
/** sg_io_hdr `flags`: glibc's SG_FLAG_LUN_INHIBIT; unused by the 6.1 kernel. */
export const SG_FLAG_UNUSED_LUN_INHIBIT = 0x2;
/** sg_io_hdr `flags`: mmap-ed IO through the fd's reserved buffer. */
export const SG_FLAG_MMAP_IO = 0x4;
/** sg_io_hdr `flags`: queue at the tail (sg's default is head). */
export const SG_FLAG_Q_AT_TAIL = 0x10;
/** sg_io_hdr `flags`: queue at the head (block SG_IO's default is tail). */
export const SG_FLAG_Q_AT_HEAD = 0x20;
/** sg_io_hdr `flags`: no data transfer between user and kernel buffers (ignored by 6.1 sg). */
export const SG_FLAG_NO_DXFER = 0x10000;

/** `info` mask of the OK/CHECK bit. */
export const SG_INFO_OK_MASK = 0x1;
/** `info`: no sense, host or driver "noise". */
export const SG_INFO_OK = 0x0;
/** `info`: something abnormal happened (status, host or driver byte non-zero). */
export const SG_INFO_CHECK = 0x1;
/** `info` mask of the IO-kind bits. */
export const SG_INFO_DIRECT_IO_MASK = 0x6;
/** `info`: data went through kernel buffers (or there was none). */
export const SG_INFO_INDIRECT_IO = 0x0;
/** `info`: direct IO was requested and performed. */
export const SG_INFO_DIRECT_IO = 0x2;
/** `info`: part direct, part indirect (never set by 6.1). */
export const SG_INFO_MIXED_IO = 0x4;
/** `info` (sg v4 driver): the device is being detached. */
export const SG_INFO_DEVICE_DETACHING = 0x8;
/** `info` (sg v4 driver): the request was aborted (SG_IOABORT). */
export const SG_INFO_ABORTED = 0x10;
/** `info` (sg v4 driver): a multiple-request (mrq) batch finished. */
export const SG_INFO_MRQ_FINI = 0x20;

/**
 * `flags` of an sg_io_v4 request to the out-of-tree sg v4 driver (sg3_utils
 * testing/uapi_sg.h). Mainline 6.1 bsg honours only Q_AT_TAIL (BSG_FLAG_Q_AT_TAIL, same bit).
 */
export const Sgv4Flag = {
  /** SGV4_FLAG_DIRECT_IO. */
  DIRECT_IO: 0x1,
  /** SGV4_FLAG_MMAP_IO. */
  MMAP_IO: 0x4,
  /** SGV4_FLAG_YIELD_TAG: the driver writes the block-layer tag to `generated_tag`. */
  YIELD_TAG: 0x8,
  /** SGV4_FLAG_Q_AT_TAIL. */
  Q_AT_TAIL: 0x10,
  /** SGV4_FLAG_Q_AT_HEAD. */
  Q_AT_HEAD: 0x20,
  /** SGV4_FLAG_DOUT_OFFSET: data-out offset in `spare_in`. */
  DOUT_OFFSET: 0x40,
  /** SGV4_FLAG_EVENTFD: signal completion on the fd's eventfd. */
  EVENTFD: 0x80,
  /** SGV4_FLAG_COMPLETE_B4: mrq ordering. */
  COMPLETE_B4: 0x100,
  /** SGV4_FLAG_SIGNAL. */
  SIGNAL: 0x200,
  /** SGV4_FLAG_IMMED: non-blocking submit/receive. */
  IMMED: 0x400,
  /** SGV4_FLAG_HIPRI (also called POLLED): completion by polling. */
  HIPRI: 0x800,
  /** SGV4_FLAG_STOP_IF: stop an mrq batch on error. */
  STOP_IF: 0x1000,
  /** SGV4_FLAG_DEV_SCOPE: SG_IOABORT searches every fd of the device. */
  DEV_SCOPE: 0x2000,
  /** SGV4_FLAG_SHARE: use the shared fd pair's buffer. */
  SHARE: 0x4000,
  /** SGV4_FLAG_DO_ON_OTHER: issue on the share partner. */
  DO_ON_OTHER: 0x8000,
  /** SGV4_FLAG_NO_DXFER. */
  NO_DXFER: 0x10000,
  /** SGV4_FLAG_KEEP_SHARE. */
  KEEP_SHARE: 0x20000,
  /** SGV4_FLAG_MULTIPLE_REQS: an mrq control header. */
  MULTIPLE_REQS: 0x40000,
  /** SGV4_FLAG_ORDERED_WR. */
  ORDERED_WR: 0x80000,
  /** SGV4_FLAG_REC_ORDER: receive order in `request_priority`. */
  REC_ORDER: 0x100000,
  /** SGV4_FLAG_META_OUT_IF. */
  META_OUT_IF: 0x200000,
} as const;

/** Alias of the POLLED spelling of {@link Sgv4Flag.HIPRI}. */
export const SGV4_FLAG_POLLED = Sgv4Flag.HIPRI;

/*
 * ioctl request numbers of the sg driver (include/scsi/sg.h, Linux 6.1). They are plain
 * numbers, not _IOC-encoded, and the same on every ABI. drivers/scsi/sg.c `sg_ioctl_common()`
 * handles them; the block layer's scsi_ioctl() and bsg answer a few (SG_IO, SG_GET_VERSION_NUM,
 * SG_GET/SET_RESERVED_SIZE, SG_GET/SET_TIMEOUT, SG_EMULATED_HOST).
 */

/** SG_SET_TIMEOUT: `*(int *)arg` is the default timeout in USER_HZ ticks (< 0 -> EIO). */
export const SG_SET_TIMEOUT = 0x2201;
/** SG_GET_TIMEOUT: the default timeout in USER_HZ ticks, as the ioctl's return value. */
export const SG_GET_TIMEOUT = 0x2202;
/** SG_EMULATED_HOST: 1 for an emulated host adapter (the host template's `emulated`). */
export const SG_EMULATED_HOST = 0x2203;
/** SG_SET_TRANSFORM: passed to the LLD (historically ide-scsi). */
export const SG_SET_TRANSFORM = 0x2204;
/** SG_GET_TRANSFORM: passed to the LLD. */
export const SG_GET_TRANSFORM = 0x2205;
/** SG_GET_COMMAND_Q: the fd's command queueing (0 or 1). */
export const SG_GET_COMMAND_Q = 0x2270;
/** SG_SET_COMMAND_Q: command queueing off (one outstanding request) or on (SG_MAX_QUEUE). */
export const SG_SET_COMMAND_Q = 0x2271;
/** SG_GET_RESERVED_SIZE: the reserved buffer's size, capped at max_sectors bytes. */
export const SG_GET_RESERVED_SIZE = 0x2272;
/** SG_SET_RESERVED_SIZE: rebuilds the fd's reserved buffer (EBUSY after mmap or while in use). */
export const SG_SET_RESERVED_SIZE = 0x2275;
/** SG_GET_SCSI_ID: fills a `struct sg_scsi_id`. */
export const SG_GET_SCSI_ID = 0x2276;
/** SG_SET_FORCE_LOW_DMA: accepted and ignored. */
export const SG_SET_FORCE_LOW_DMA = 0x2279;
/** SG_GET_LOW_DMA: always 0. */
export const SG_GET_LOW_DMA = 0x227a;
/** SG_SET_FORCE_PACK_ID: read() returns only the request whose pack_id it is given (-1 = any). */
export const SG_SET_FORCE_PACK_ID = 0x227b;
/** SG_GET_PACK_ID: pack_id of the first readable request, -1 when none. */
export const SG_GET_PACK_ID = 0x227c;
/** SG_GET_NUM_WAITING: completed requests waiting for read() (SG_IO's own excluded). */
export const SG_GET_NUM_WAITING = 0x227d;
/** SG_SET_DEBUG: the device's debug level. */
export const SG_SET_DEBUG = 0x227e;
/** SG_GET_SG_TABLESIZE: the queue's max_segments. */
export const SG_GET_SG_TABLESIZE = 0x227f;
/** SG_GET_VERSION_NUM: 30536 for sg 3.5.36 (Linux 6.1); bsg and block devices answer 30527. */
export const SG_GET_VERSION_NUM = 0x2282;
/** SG_NEXT_CMD_LEN: CDB length of the next sg_header (v2) write() (> 252 -> ENOMEM). */
export const SG_NEXT_CMD_LEN = 0x2283;
/** SG_SCSI_RESET: an SG_SCSI_RESET_* value (needs CAP_SYS_ADMIN and CAP_SYS_RAWIO). */
export const SG_SCSI_RESET = 0x2284;
/** SG_IO: submit an sg_io_hdr and wait for it (like write() then read()). */
export const SG_IO = 0x2285;
/** SG_GET_REQUEST_TABLE: SG_MAX_QUEUE `struct sg_req_info` entries. */
export const SG_GET_REQUEST_TABLE = 0x2286;
/** SG_SET_KEEP_ORPHAN: 1 keeps an interrupted SG_IO's reply for read(); 0 (default) drops it. */
export const SG_SET_KEEP_ORPHAN = 0x2287;
/** SG_GET_KEEP_ORPHAN. */
export const SG_GET_KEEP_ORPHAN = 0x2288;
/** SG_GET_ACCESS_COUNT: a fake count (1 while the device exists). */
export const SG_GET_ACCESS_COUNT = 0x2289;

/** SG_SCSI_RESET argument: no reset (reports whether one is in progress). */
export const SG_SCSI_RESET_NOTHING = 0;
/** SG_SCSI_RESET argument: logical unit reset (escalates unless SG_SCSI_RESET_NO_ESCALATE). */
export const SG_SCSI_RESET_DEVICE = 1;
/** SG_SCSI_RESET argument: bus reset. */
export const SG_SCSI_RESET_BUS = 2;
/** SG_SCSI_RESET argument: host adapter reset. */
export const SG_SCSI_RESET_HOST = 3;
/** SG_SCSI_RESET argument: target reset. */
export const SG_SCSI_RESET_TARGET = 4;
/** SG_SCSI_RESET flag (OR-able): do not escalate a failed reset to the next level. */
export const SG_SCSI_RESET_NO_ESCALATE = 0x100;

/** SG_MAX_QUEUE: requests one sg fd may have outstanding (queued, done or being read). */
export const SG_MAX_QUEUE = 16;
