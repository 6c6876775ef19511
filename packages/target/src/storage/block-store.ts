/**
 * The backing store of a logical unit: fixed-size logical blocks with a provisioning state
 * per block (SBC-5 4.7: mapped or deallocated). Operations are synchronous where the store
 * can answer at once (memory) and return promises where real I/O happens (file), so the
 * memory path costs no promise per command.
 * @module
 */

/** A value now, or later. */
export type MaybePromise<T> = T | Promise<T>;

/** A run of blocks with one provisioning status (GET LBA STATUS, SBC-5 5.8). */
export interface ProvisioningRun {
  /** True when the blocks are mapped (written since last deallocated). */
  readonly mapped: boolean;
  /** Number of blocks in the run, from the LBA asked for (>= 1). */
  readonly blocks: number;
}

/** What the logical unit needs from a store. LBAs and counts are numbers (capacity < 2^53 bytes). */
export interface BlockStore {
  /** Bytes per logical block. */
  readonly blockSize: number;
  /** Reads `blocks` blocks at `lba` into a new buffer (deallocated blocks read as zeros: LBPRZ = 1). */
  read(lba: number, blocks: number): MaybePromise<Uint8Array>;
  /** Writes whole blocks at `lba`; with `durable` the data is on stable storage when this settles (FUA). */
  write(lba: number, data: Uint8Array, durable: boolean): MaybePromise<void>;
  /** Deallocates blocks (UNMAP, WRITE SAME with UNMAP): they read as zeros afterwards. */
  unmap(lba: number, blocks: number): MaybePromise<void>;
  /** The provisioning run starting at `lba` (at most `maxBlocks` long). */
  provisioning(lba: number, maxBlocks: number): MaybePromise<ProvisioningRun>;
  /** Makes everything written so far durable (SYNCHRONIZE CACHE). */
  flush(): MaybePromise<void>;
  /** Changes the capacity (blocks beyond a shrink are dropped; growth reads as zeros). */
  resize(blocks: number): MaybePromise<void>;
  /** Flushes and releases the store. */
  close(): Promise<void>;
}
