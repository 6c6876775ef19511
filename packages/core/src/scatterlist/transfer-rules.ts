/**
 * The rules of the data-transfer model, each with the Linux 6.1 function and file that
 * applies it: the ids a {@link TransferRefusal} and the lab's conformance report name.
 * @module
 */

/** A rule the transfer model applies, and where Linux 6.1 applies it. */
export interface KernelRule {
  /** The function that applies the rule (`sg_new_write`). */
  readonly kernelFunction: string;
  /** Its source file (`drivers/scsi/sg.c`). */
  readonly file: string;
  /** The errno when the rule refuses; absent for a rule that shapes the transfer instead. */
  readonly errno?: string;
  /** One line: what the rule says. */
  readonly summary: string;
}

/** Every rule of the transfer model, by id. */
export const TRANSFER_RULES = {
  'sg-mmap-reserve-too-small': {
    kernelFunction: 'sg_new_write',
    file: 'drivers/scsi/sg.c',
    errno: 'ENOMEM',
    summary: 'SG_FLAG_MMAP_IO with dxfer_len larger than the reserve',
  },
  'sg-mmap-with-direct-io': {
    kernelFunction: 'sg_new_write',
    file: 'drivers/scsi/sg.c',
    errno: 'EINVAL',
    summary: 'SG_FLAG_MMAP_IO together with SG_FLAG_DIRECT_IO',
  },
  'sg-mmap-reserve-busy': {
    kernelFunction: 'sg_new_write',
    file: 'drivers/scsi/sg.c',
    errno: 'EBUSY',
    summary: 'SG_FLAG_MMAP_IO while another request holds the reserve',
  },
  'sg-max-dxfer-len': {
    kernelFunction: 'sg_common_write',
    file: 'drivers/scsi/sg.c',
    errno: 'EINVAL',
    summary: 'dxfer_len >= 256 MiB (SZ_256M), checked after the mmap, CDB-length and permission checks',
  },
  'sg-direct-io': {
    kernelFunction: 'sg_start_req',
    file: 'drivers/scsi/sg.c',
    summary:
      'direct IO (SG_INFO_DIRECT_IO) only with allow_dio, SG_FLAG_DIRECT_IO, a known direction, no iovecs and blk_rq_aligned()',
  },
  'sg-indirect-too-large': {
    kernelFunction: 'sg_build_indirect',
    file: 'drivers/scsi/sg.c',
    errno: 'ENOMEM',
    summary: 'an indirect buffer larger than sg_tablesize x element size',
  },
  'uio-maxiov': {
    kernelFunction: 'iovec_from_user',
    file: 'lib/iov_iter.c',
    errno: 'EINVAL',
    summary: 'more than UIO_MAXIOV (1024) iovecs',
  },
  'access-ok': {
    kernelFunction: 'import_single_range / __import_iovec (access_ok)',
    file: 'lib/iov_iter.c',
    errno: 'EFAULT',
    summary: 'a user range that reaches past TASK_SIZE_MAX',
  },
  'max-rw-count': {
    kernelFunction: 'import_single_range / __import_iovec',
    file: 'lib/iov_iter.c',
    summary: 'the mapped length is cut to MAX_RW_COUNT (INT_MAX & PAGE_MASK) before access_ok',
  },
  'iovecs-empty': {
    kernelFunction: 'blk_rq_map_user_io / bio_map_user_iov',
    file: 'block/blk-map.c',
    errno: 'EINVAL',
    summary: 'iovecs that hold no data after truncation to dxfer_len',
  },
  'block-max-hw-sectors': {
    kernelFunction: 'sg_io',
    file: 'drivers/scsi/scsi_ioctl.c',
    errno: 'EIO',
    summary: 'block SG_IO with dxfer_len > max_hw_sectors << 9 (32-bit)',
  },
  'block-direction': {
    kernelFunction: 'sg_io',
    file: 'drivers/scsi/scsi_ioctl.c',
    errno: 'EINVAL',
    summary: 'block SG_IO with data but direction NONE or UNKNOWN',
  },
  'bsg-bidi': {
    kernelFunction: 'scsi_bsg_sg_io_fn',
    file: 'drivers/scsi/scsi_bsg.c',
    errno: 'EOPNOTSUPP',
    summary: 'dout_xfer_len and din_xfer_len both set (BIDI was removed)',
  },
  'bsg-ignores-iovec-count': {
    kernelFunction: 'scsi_bsg_sg_io_fn',
    file: 'drivers/scsi/scsi_bsg.c',
    summary: 'dout/din_iovec_count are ignored: dout_xferp/din_xferp are mapped as one flat buffer',
  },
  'copy-rq-map-data': {
    kernelFunction: 'blk_rq_map_user_iov',
    file: 'block/blk-map.c',
    summary: "the caller's rq_map_data (sg's reserve or indirect buffer) means a copy",
  },
  'copy-bounce-highmem': {
    kernelFunction: 'blk_rq_map_user_iov (blk_queue_may_bounce)',
    file: 'block/blk-map.c',
    summary: 'a queue that may bounce highmem pages copies',
  },
  'copy-dma-alignment': {
    kernelFunction: 'blk_rq_map_user_iov',
    file: 'block/blk-map.c',
    summary: 'a base or length misaligned to dma_alignment | dma_pad_mask is copied, not pinned',
  },
  'copy-virt-boundary-gap': {
    kernelFunction: 'blk_rq_map_user_iov (iov_iter_gap_alignment)',
    file: 'block/blk-map.c',
    summary: 'an interior iovec gap off the virt boundary is copied, not pinned',
  },
  'user-pages-fault': {
    kernelFunction: 'bio_map_user_iov / bio_copy_user_iov',
    file: 'block/blk-map.c',
    errno: 'EFAULT',
    summary:
      'pinning unmapped user pages (zero-copy) or copying data in from them fails (data-out, and sg TO_FROM_DEV even from a NULL dxferp)',
  },
  'bio-page-does-not-fit': {
    kernelFunction: 'bio_add_hw_page',
    file: 'block/bio.c',
    errno: 'EINVAL',
    summary: 'a page does not fit even into an empty bio',
  },
  'bio-virt-boundary-gap': {
    kernelFunction: 'bio_will_gap (ll_back_merge_fn)',
    file: 'block/blk-merge.c',
    errno: 'EINVAL',
    summary:
      "a further bio would leave a virt-boundary gap, or the request's first bvec starts off the boundary",
  },
  'bio-max-hw-sectors': {
    kernelFunction: 'll_back_merge_fn',
    file: 'block/blk-merge.c',
    errno: 'EINVAL',
    summary: 'the request would exceed max_hw_sectors',
  },
  'bio-max-segments': {
    kernelFunction: 'll_new_hw_segment',
    file: 'block/blk-merge.c',
    errno: 'EINVAL',
    summary: 'the request would exceed max_segments',
  },
  'sg-buffer-too-small': {
    kernelFunction: 'bio_copy_user_iov',
    file: 'block/blk-map.c',
    errno: 'ENOMEM',
    summary: "sg's reserve or indirect buffer has fewer pages than the transfer",
  },
  /**
   * A 6.1-stable regression, modelled because the lab's kernel (Debian 6.1.192) has it:
   * 6.1.80 backported "block: Fix WARNING in _copy_from_iter" (upstream 13f3956eb568), after
   * which `bio_copy_user_iov()` copies TO_FROM_DEV data in from a copy of the iterator and
   * never advances it, so `blk_rq_map_user_iov()` keeps mapping the transfer again until sg's
   * buffer runs out of pages (ENOMEM) or `blk_rq_append_bio()` refuses a bio (EINVAL). Only sg
   * sets `map_data->from_user` (`sg_start_req`, for SG_DXFER_TO_FROM_DEV on its indirect path:
   * the reserve or a private buffer, flat or iovec, SG_FLAG_MMAP_IO included); direct IO and
   * block SG_IO pass no map_data, bsg has no TO_FROM_DEV. 6.1.0 to 6.1.79 copy in through the
   * iterator itself, which advances it: the request maps once and runs. The model has no
   * kernel version and follows the lab's kernel.
   */
  'sg-to-from-dev-regression': {
    kernelFunction: 'bio_copy_user_iov (map_data->from_user) / blk_rq_map_user_iov',
    file: 'block/blk-map.c',
    errno: 'ENOMEM',
    summary:
      "6.1.80+: SG_DXFER_TO_FROM_DEV through sg's buffer maps again and again (the copy-in never " +
      'advances the iterator) until the pages run out (ENOMEM) or a bio is refused (EINVAL)',
  },
  'dma-pad': {
    kernelFunction: 'scsi_alloc_sgtables',
    file: 'drivers/scsi/scsi_lib.c',
    summary: 'a length off dma_pad_mask grows the last entry (cmd->extra_len)',
  },
  'atapi-dma-drain': {
    kernelFunction: 'scsi_cmd_needs_dma_drain / scsi_alloc_sgtables',
    file: 'drivers/scsi/scsi_lib.c',
    summary: 'an ATAPI data-in command of type ATAPI_MISC gets one extra 16 KiB drain entry (cmd->extra_len)',
  },
} as const satisfies Record<string, KernelRule>;

/** The id of a transfer rule. */
export type TransferRuleId = keyof typeof TRANSFER_RULES;

/** `function (file)` for a transfer rule: what doc comments and reports print. */
export function transferRuleSource(id: TransferRuleId): string {
  const rule: KernelRule = TRANSFER_RULES[id];
  return `${rule.kernelFunction} (${rule.file})`;
}
