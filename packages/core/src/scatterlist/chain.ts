/**
 * Layout of a chained scatterlist table for a SCSI command (Linux 6.1):
 * `sg_alloc_table_chained()` (lib/sg_pool.c) with the command's
 * SCSI_INLINE_SG_CNT = 2 inline entries as the first chunk, further chunks of
 * up to SG_CHUNK_SIZE = 128 slots from the `sgpool-8/16/32/64/128` mempools,
 * built by `__sg_alloc_table()` (lib/scatterlist.c).
 * @module
 */
import { SCSI_INLINE_SG_CNT, SG_CHUNK_SIZE } from '../limits/constants.js';

/** One chunk of the table. */
export interface ScatterlistChunk {
  /** `inline` (inside the scsi_cmnd) or the mempool it comes from (`sgpool-8` .. `sgpool-128`). */
  readonly source: 'inline' | `sgpool-${8 | 16 | 32 | 64 | 128}`;
  /** Entries allocated for it (`alloc_size`; a pool element holds the pool's size). */
  readonly slots: number;
  /** Entries carrying data (`sg_size`). */
  readonly dataEntries: number;
  /** Its last slot is a chain link to the next chunk. */
  readonly chained: boolean;
}

/** The whole table. */
export interface ScatterlistTableLayout {
  /** Entries requested (`nents` = the request's nr_phys_segments). */
  readonly entries: number;
  /** The chunks in order. */
  readonly chunks: readonly ScatterlistChunk[];
  /** Chain links used. */
  readonly chainLinks: number;
}

/** `sg_pool_index()`: pool 0 (8 entries) for <= 8, else get_count_order(n) - 3. */
export function sgPoolSize(entries: number): 8 | 16 | 32 | 64 | 128 {
  if (entries <= 8) return 8;
  const order = Math.ceil(Math.log2(entries));
  return (2 ** order) as 16 | 32 | 64 | 128;
}

/**
 * The chunks `sg_alloc_table_chained(table, nents, inline, SCSI_INLINE_SG_CNT)`
 * uses: if nents <= 2 they all fit inline; otherwise `__sg_alloc_table` with
 * max_ents 128 and the inline array as a first chunk of 2: a chunk that is
 * not the last spends its final slot on the chain link (sg_size = alloc_size - 1).
 * `nents` must be 1..SG_MAX_SEGMENTS (the queue's max_segments bounds it).
 */
export function scatterlistTableLayout(
  entries: number,
  inlineEntries = SCSI_INLINE_SG_CNT,
  chunkSize = SG_CHUNK_SIZE,
): ScatterlistTableLayout {
  const chunks: ScatterlistChunk[] = [];
  if (entries === 0) return { entries, chunks, chainLinks: 0 };
  if (inlineEntries > 0 && entries <= inlineEntries) {
    chunks.push({ source: 'inline', slots: entries, dataEntries: entries, chained: false });
    return { entries, chunks, chainLinks: 0 };
  }
  const useInline = inlineEntries > 1;
  let currentMax = useInline ? inlineEntries : chunkSize;
  let left = entries;
  let first = true;
  while (left > 0) {
    let slots = left;
    let dataEntries = left;
    if (slots > currentMax) {
      slots = currentMax;
      dataEntries = slots - 1;
    }
    left -= dataEntries;
    const source = first && useInline ? 'inline' : (`sgpool-${sgPoolSize(slots)}` as const);
    chunks.push({
      source,
      slots: source === 'inline' ? slots : sgPoolSize(slots),
      dataEntries,
      chained: left > 0,
    });
    first = false;
    currentMax = chunkSize;
  }
  return { entries, chunks, chainLinks: chunks.length - 1 };
}
