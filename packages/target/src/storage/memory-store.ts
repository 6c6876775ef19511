/**
 * Sparse in-memory backing: blocks live in chunks allocated on first write, so a 2 TiB
 * logical unit costs nothing until written. Every call completes synchronously.
 * @module
 */
import type { BlockStore, ProvisioningRun } from './block-store.js';

/** Blocks per chunk: 64 KiB of 512-byte blocks, 512 KiB of 4096-byte blocks. */
export const CHUNK_BLOCKS = 128;

interface Chunk {
  /** CHUNK_BLOCKS blocks of data; deallocated blocks are kept zeroed. */
  readonly data: Uint8Array;
  /** 1 = mapped, per block. */
  readonly mapped: Uint8Array;
  /** Mapped blocks in the chunk (the chunk is freed at 0). */
  mappedCount: number;
}

/** The memory store (SBC-5 4.7 thin provisioning with LBPRZ = 1: deallocated blocks read as zeros). */
/**
 * Calls `run` for each piece of [lba, lba + blocks) that lies in one chunk: the chunk's index,
 * the first block's offset in it, the blocks of the piece, and the blocks before it.
 */
function eachChunkRun(
  lba: number,
  blocks: number,
  run: (index: number, offset: number, n: number, done: number) => void,
): void {
  let done = 0;
  while (done < blocks) {
    const at = lba + done;
    const index = Math.floor(at / CHUNK_BLOCKS);
    const offset = at - index * CHUNK_BLOCKS;
    const n = Math.min(blocks - done, CHUNK_BLOCKS - offset);
    run(index, offset, n, done);
    done += n;
  }
}

export class MemoryBlockStore implements BlockStore {
  readonly blockSize: number;
  #blocks: number;
  readonly #chunks = new Map<number, Chunk>();

  /** A store of `blocks` blocks of `blockSize` bytes, all deallocated. */
  constructor(blockSize: number, blocks: number) {
    this.blockSize = blockSize;
    this.#blocks = blocks;
  }

  /** Bytes held in allocated chunks (for tests and `describe()`). */
  get allocatedBytes(): number {
    return this.#chunks.size * CHUNK_BLOCKS * this.blockSize;
  }

  read(lba: number, blocks: number): Uint8Array {
    const bs = this.blockSize;
    // Common case: the range lies in one allocated chunk, one copy and no zero fill.
    const first = Math.floor(lba / CHUNK_BLOCKS);
    const offset = lba - first * CHUNK_BLOCKS;
    if (offset + blocks <= CHUNK_BLOCKS) {
      const chunk = this.#chunks.get(first);
      if (chunk !== undefined) return chunk.data.slice(offset * bs, (offset + blocks) * bs);
    }
    const out = new Uint8Array(blocks * bs);
    eachChunkRun(lba, blocks, (index, offset, n, done) => {
      const chunk = this.#chunks.get(index);
      if (chunk !== undefined) out.set(chunk.data.subarray(offset * bs, (offset + n) * bs), done * bs);
    });
    return out;
  }

  write(lba: number, data: Uint8Array): void {
    const bs = this.blockSize;
    const blocks = data.length / bs;
    eachChunkRun(lba, blocks, (index, offset, n, done) => {
      let chunk = this.#chunks.get(index);
      if (chunk === undefined) {
        chunk = {
          data: new Uint8Array(CHUNK_BLOCKS * bs),
          mapped: new Uint8Array(CHUNK_BLOCKS),
          mappedCount: 0,
        };
        this.#chunks.set(index, chunk);
      }
      chunk.data.set(data.subarray(done * bs, (done + n) * bs), offset * bs);
      for (let i = offset; i < offset + n; i++) {
        if (chunk.mapped[i] === 0) {
          chunk.mapped[i] = 1;
          chunk.mappedCount++;
        }
      }
    });
  }

  unmap(lba: number, blocks: number): void {
    const bs = this.blockSize;
    eachChunkRun(lba, blocks, (index, offset, n) => {
      const chunk = this.#chunks.get(index);
      if (chunk !== undefined) {
        for (let i = offset; i < offset + n; i++) {
          if (chunk.mapped[i] === 1) {
            chunk.mapped[i] = 0;
            chunk.mappedCount--;
          }
        }
        if (chunk.mappedCount === 0) this.#chunks.delete(index);
        else chunk.data.fill(0, offset * bs, (offset + n) * bs);
      }
    });
  }

  provisioning(lba: number, maxBlocks: number): ProvisioningRun {
    const state = (at: number): boolean => {
      const index = Math.floor(at / CHUNK_BLOCKS);
      return this.#chunks.get(index)?.mapped[at - index * CHUNK_BLOCKS] === 1;
    };
    const mapped = state(lba);
    let blocks = 1;
    while (blocks < maxBlocks) {
      const at = lba + blocks;
      const index = Math.floor(at / CHUNK_BLOCKS);
      const chunk = this.#chunks.get(index);
      if (chunk === undefined && !mapped && at % CHUNK_BLOCKS === 0) {
        blocks += CHUNK_BLOCKS; // a whole deallocated chunk
        continue;
      }
      if (state(at) !== mapped) break;
      blocks++;
    }
    return { mapped, blocks: Math.min(blocks, maxBlocks) };
  }

  flush(): void {}

  resize(blocks: number): void {
    if (blocks < this.#blocks) this.unmap(blocks, this.#blocks - blocks);
    this.#blocks = blocks;
  }

  async close(): Promise<void> {
    this.#chunks.clear();
  }
}
