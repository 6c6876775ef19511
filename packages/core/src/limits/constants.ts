/**
 * Block-layer and SCSI-midlayer constants of Linux 6.1 that the limits,
 * scatterlist and reserved-buffer models use.
 * @module
 */

/** `SECTOR_SHIFT` (include/linux/blk_types.h): limits count 512-byte sectors. */
export const SECTOR_SHIFT = 9;
/** `SECTOR_SIZE`: 512 bytes. */
export const SECTOR_SIZE = 512;
/** `UINT_MAX`: the largest `unsigned int`, used as "no limit" by several limits. */
export const LINUX_UINT_MAX = 0xffff_ffff;
/** `INT_MAX`: `queue_max_bytes()` caps max_sectors at `INT_MAX >> 9`. */
export const LINUX_INT_MAX = 0x7fff_ffff;
/** `BLK_MAX_SEGMENTS` (include/linux/blkdev.h): default max_segments, 128. */
export const BLK_MAX_SEGMENTS = 128;
/** `BLK_MAX_SEGMENT_SIZE`: default max_segment_size, 65536 bytes. */
export const BLK_MAX_SEGMENT_SIZE = 65536;
/** `BLK_SAFE_MAX_SECTORS`: default max_hw_sectors and max_sectors, 255. */
export const BLK_SAFE_MAX_SECTORS = 255;
/** `BLK_DEF_MAX_SECTORS`: `blk_queue_max_hw_sectors()` caps max_sectors at 2560. */
export const BLK_DEF_MAX_SECTORS = 2560;
/** `BLK_SEG_BOUNDARY_MASK`: default seg_boundary_mask, 0xFFFFFFFF. */
export const BLK_SEG_BOUNDARY_MASK = 0xffff_ffff;
/** Default `dma_alignment` of a queue (`blk_set_default_limits`): 511. */
export const BLK_DEFAULT_DMA_ALIGNMENT = 511;
/** `SG_CHUNK_SIZE` (include/linux/scatterlist.h): entries per chained chunk, 128. */
export const SG_CHUNK_SIZE = 128;
/** `SG_MAX_SEGMENTS`: largest chained scatterlist, 2048 (with chaining support). */
export const SG_MAX_SEGMENTS = 2048;
/** `SG_ALL` (include/scsi/scsi_host.h) = SG_CHUNK_SIZE = 128: the legacy "any number" sg_tablesize. */
export const SG_ALL = 128;
/** `SCSI_DEFAULT_MAX_SECTORS` (include/scsi/scsi_host.h): host max_sectors when the template gives 0. */
export const SCSI_DEFAULT_MAX_SECTORS = 1024;
/** `SCSI_INLINE_SG_CNT` (drivers/scsi/scsi_lib.c): scatterlist entries stored inline in the command. */
export const SCSI_INLINE_SG_CNT = 2;
/** `BIO_MAX_VECS` (include/linux/bio.h): bvecs one bio can hold, 256. */
export const BIO_MAX_VECS = 256;
/** `UIO_MAXIOV` (include/uapi/linux/uio.h): most iovecs `import_iovec()` accepts, 1024. */
export const UIO_MAXIOV = 1024;
/** `UIO_FASTIOV`: iovecs imported onto the stack before allocating, 8. */
export const UIO_FASTIOV = 8;
/** x86-64 page size, the default everywhere a page size is asked for. */
export const X86_64_PAGE_SIZE = 4096;
/**
 * `TASK_SIZE_MAX` on x86-64 with 4-level paging (arch/x86/include/asm/page_64_types.h):
 * `(1 << 47) - PAGE_SIZE`. `access_ok()` (include/asm-generic/access_ok.h) refuses a user
 * range that reaches past it.
 */
export const X86_64_TASK_SIZE_MAX = 2 ** 47 - X86_64_PAGE_SIZE;

/**
 * `MAX_RW_COUNT` = `INT_MAX & PAGE_MASK` (include/linux/fs.h): `import_single_range()` and
 * `__import_iovec()` (lib/iov_iter.c) cut a transfer to it. 0x7ffff000 with 4 KiB pages.
 */
export function maxRwCount(pageSize = X86_64_PAGE_SIZE): number {
  return LINUX_INT_MAX - (LINUX_INT_MAX % pageSize);
}
