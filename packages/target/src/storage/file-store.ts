/**
 * File backing: a raw image file, one logical block after another, read and written with
 * positional I/O; FUA and SYNCHRONIZE CACHE call `fdatasync`. The image stays a plain disk
 * image any tool can open (no header, no sidecar).
 *
 * Node has no `fallocate(PUNCH_HOLE)` or `SEEK_DATA`, so deallocation writes zeros and the
 * provisioning state is kept in memory, per chunk, learned lazily: a block of an image that
 * reads as all zeros is reported deallocated (it reads exactly as a deallocated block would,
 * LBPRZ = 1), anything else mapped. After a restart the data is intact and a block written
 * with zeros is reported deallocated, the one difference from before the restart.
 *
 * Reads and writes run synchronously while they are page-cache fast and through the thread
 * pool while the file is slow ({@link IoPathChooser}); FUA's `fdatasync` always goes to the
 * thread pool.
 * @module
 */
import { readSync, writeSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { BlockStore, ProvisioningRun } from './block-store.js';
import { IoPathChooser, type IoPathOptions } from './io-path.js';
import { CHUNK_BLOCKS } from './memory-store.js';

const UNKNOWN = -1;
const DEALLOCATED = 0;
const MAPPED = 1;

/** The file store. Create it with {@link FileBlockStore.open}. */
export class FileBlockStore implements BlockStore {
  readonly blockSize: number;
  readonly path: string;
  readonly #handle: FileHandle;
  /** Synchronous or thread-pool I/O (see {@link IoPathChooser}). */
  readonly ioPath: IoPathChooser;
  #blocks: number;
  /** Per chunk: UNKNOWN, DEALLOCATED or MAPPED for each block. Chunks not present are all UNKNOWN. */
  readonly #state = new Map<number, Int8Array>();
  #closed = false;

  private constructor(
    path: string,
    handle: FileHandle,
    blockSize: number,
    blocks: number,
    ioPath: IoPathOptions | undefined,
  ) {
    this.path = path;
    this.#handle = handle;
    this.ioPath = new IoPathChooser(ioPath);
    this.blockSize = blockSize;
    this.#blocks = blocks;
  }

  /**
   * Opens (or creates) the image. `blocks` undefined: the capacity is the file's size in whole
   * blocks (an existing image keeps its size). A file shorter than the capacity is extended
   * (sparse); a longer one is left as it is. `ioPath` tunes the synchronous / thread-pool
   * choice (tests).
   */
  static async open(
    path: string,
    blockSize: number,
    blocks: number | undefined,
    ioPath?: IoPathOptions,
  ): Promise<FileBlockStore> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r+');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      handle = await open(path, 'w+');
    }
    const size = (await handle.stat()).size;
    const capacity = blocks ?? Math.floor(size / blockSize);
    if (size < capacity * blockSize) await handle.truncate(capacity * blockSize);
    return new FileBlockStore(path, handle, blockSize, capacity, ioPath);
  }

  /** Capacity in blocks. */
  get blocks(): number {
    return this.#blocks;
  }

  async read(lba: number, blocks: number): Promise<Uint8Array> {
    const out = new Uint8Array(blocks * this.blockSize);
    const fd = this.#handle.fd;
    let done = 0;
    while (done < out.length) {
      const position = lba * this.blockSize + done;
      const bytesRead = this.ioPath.synchronousFor(out.length - done)
        ? this.ioPath.timed(() => readSync(fd, out, done, out.length - done, position))
        : (await this.#handle.read(out, done, out.length - done, position)).bytesRead;
      if (bytesRead === 0) break; // beyond the end of the file: zeros
      done += bytesRead;
    }
    return out;
  }

  async write(lba: number, data: Uint8Array, durable: boolean): Promise<void> {
    const fd = this.#handle.fd;
    let done = 0;
    while (done < data.length) {
      const position = lba * this.blockSize + done;
      done += this.ioPath.synchronousFor(data.length - done)
        ? this.ioPath.timed(() => writeSync(fd, data, done, data.length - done, position))
        : (await this.#handle.write(data, done, data.length - done, position)).bytesWritten;
    }
    this.#mark(lba, data.length / this.blockSize, MAPPED);
    if (durable) await this.#handle.datasync();
  }

  async unmap(lba: number, blocks: number): Promise<void> {
    const step = Math.min(blocks, 2048);
    const zeros = new Uint8Array(step * this.blockSize);
    for (let done = 0; done < blocks; done += step) {
      const n = Math.min(step, blocks - done);
      await this.#handle.write(zeros, 0, n * this.blockSize, (lba + done) * this.blockSize);
    }
    this.#mark(lba, blocks, DEALLOCATED);
  }

  #mark(lba: number, blocks: number, value: number): void {
    for (let i = 0; i < blocks; ) {
      const at = lba + i;
      const index = Math.floor(at / CHUNK_BLOCKS);
      const offset = at - index * CHUNK_BLOCKS;
      const n = Math.min(blocks - i, CHUNK_BLOCKS - offset);
      let s = this.#state.get(index);
      if (s === undefined) {
        s = new Int8Array(CHUNK_BLOCKS).fill(UNKNOWN);
        this.#state.set(index, s);
      }
      s.fill(value, offset, offset + n);
      i += n;
    }
  }

  /** Resolves UNKNOWN blocks of a chunk by reading them: all zeros = deallocated. */
  async #chunkState(index: number): Promise<Int8Array> {
    let s = this.#state.get(index);
    if (s !== undefined && !s.includes(UNKNOWN)) return s;
    const first = index * CHUNK_BLOCKS;
    const count = Math.max(0, Math.min(CHUNK_BLOCKS, this.#blocks - first));
    const data = count > 0 ? await this.read(first, count) : new Uint8Array(0);
    s = this.#state.get(index) ?? new Int8Array(CHUNK_BLOCKS).fill(UNKNOWN);
    const bs = this.blockSize;
    for (let b = 0; b < CHUNK_BLOCKS; b++) {
      if (s[b] !== UNKNOWN) continue;
      let zero = true;
      if (b < count) {
        for (let i = b * bs, end = i + bs; i < end; i++) {
          if (data[i] !== 0) {
            zero = false;
            break;
          }
        }
      }
      s[b] = zero ? DEALLOCATED : MAPPED;
    }
    this.#state.set(index, s);
    return s;
  }

  async provisioning(lba: number, maxBlocks: number): Promise<ProvisioningRun> {
    let index = Math.floor(lba / CHUNK_BLOCKS);
    let s = await this.#chunkState(index);
    const mapped = s[lba - index * CHUNK_BLOCKS] === MAPPED;
    let blocks = 1;
    while (blocks < maxBlocks) {
      const at = lba + blocks;
      const i = Math.floor(at / CHUNK_BLOCKS);
      if (i !== index) {
        index = i;
        s = await this.#chunkState(index);
      }
      if ((s[at - index * CHUNK_BLOCKS] === MAPPED) !== mapped) break;
      blocks++;
    }
    return { mapped, blocks };
  }

  async flush(): Promise<void> {
    await this.#handle.datasync();
  }

  async resize(blocks: number): Promise<void> {
    await this.#handle.truncate(blocks * this.blockSize);
    for (const index of [...this.#state.keys()])
      if (index * CHUNK_BLOCKS >= blocks) this.#state.delete(index);
    this.#blocks = blocks;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#handle.datasync();
    await this.#handle.close();
  }
}
