/**
 * What the Linux 6.1 pass-through paths can do, as {@link DeviceCapabilities}.
 * @module
 */
import { TaskManagementFunction } from '@sgv4/core';
import type { DeviceCapabilities } from '../transport/transport.js';

/** BLK_MIN_SG_TIMEOUT (7 s, include/linux/blkdev.h): bsg and block SG_IO raise shorter timeouts to it. */
export const BLK_MIN_SG_TIMEOUT_MS = 7000;

/**
 * sg (drivers/scsi/sg.c 3.5.36): an O_RDWR fd queues up to SG_MAX_QUEUE (16) requests with
 * write()/read(); a read-only fd cannot write(2) (EBADF, vfs_write) and needs SG_IO. No tags
 * (pack_id is an int matched by read()), no attributes, no per-request abort; LU reset through
 * SG_SCSI_RESET; iovecs, SG_FLAG_DIRECT_IO and the mmap-able reserved buffer. `queueDepth` is
 * what the node takes at once (the addon's figure).
 */
export function sgCapabilities(readWrite: boolean, queueDepth: number): DeviceCapabilities {
  return {
    name: 'sg v3 (Linux 6.1)',
    tagsOnWire: false,
    tagSpace: 1n << 31n,
    taskAttributes: 'initiator',
    priorityOnWire: false,
    abortInFlight: false,
    taskManagement: [TaskManagementFunction.LOGICAL_UNIT_RESET],
    iovecs: true,
    directIo: 'flag',
    mmap: readWrite,
    maxQueueDepth: queueDepth,
    minTimeoutMs: 1,
    note: 'sg_io_hdr carries a pack_id but no task tag, attribute or priority, and sg has no per-request abort (sg.c 3.5.36)',
  };
}

/**
 * bsg (block/bsg.c, drivers/scsi/scsi_bsg.c): blocking SG_IO only (on the addon's threads), flat
 * buffers only (iovec counts are ignored, so they are refused here), request_tag/attr/priority
 * never read, subprotocol TMF rejected (EINVAL), SG_SCSI_RESET not handled (ENOTTY), timeouts
 * raised to 7 s.
 */
export function bsgCapabilities(queueDepth: number): DeviceCapabilities {
  return {
    name: 'bsg (Linux 6.1)',
    tagsOnWire: false,
    tagSpace: 1n << 32n,
    taskAttributes: 'initiator',
    priorityOnWire: false,
    abortInFlight: false,
    taskManagement: [],
    iovecs: false,
    directIo: 'automatic',
    mmap: false,
    maxQueueDepth: queueDepth,
    minTimeoutMs: BLK_MIN_SG_TIMEOUT_MS,
    note: 'scsi_bsg_sg_io_fn ignores request_tag/attr/priority and iovec counts and rejects subprotocol != 0 (EINVAL)',
  };
}

/**
 * Block-device SG_IO (drivers/scsi/scsi_ioctl.c `sg_io`): sg_io_hdr v3, blocking (addon threads),
 * iovecs, zero-copy when aligned, queued at the tail by default, timeouts raised to 7 s, LU
 * reset through SG_SCSI_RESET (scsi_ioctl_reset).
 */
export function blockCapabilities(queueDepth: number): DeviceCapabilities {
  return {
    name: 'block SG_IO (Linux 6.1)',
    tagsOnWire: false,
    tagSpace: 1n << 32n,
    taskAttributes: 'initiator',
    priorityOnWire: false,
    abortInFlight: false,
    taskManagement: [TaskManagementFunction.LOGICAL_UNIT_RESET],
    iovecs: true,
    directIo: 'automatic',
    mmap: false,
    maxQueueDepth: queueDepth,
    minTimeoutMs: BLK_MIN_SG_TIMEOUT_MS,
    note: 'SG_IO on a block device takes sg_io_hdr (no tag, attribute or priority) and blocks until completion (scsi_ioctl.c sg_io)',
  };
}
