/**
 * Which way a file store's positional reads and writes go: on the event-loop thread while
 * they are page-cache fast, or through libuv's thread pool while the file is slow.
 *
 * An asynchronous `fs` call costs two thread hand-overs per I/O (libuv's `uv_queue_work`
 * wakes a pool thread, which wakes the loop again with `uv_async_send`); for a 4 KiB
 * `pread(2)` served from the page cache that is several times the copy itself, and with a
 * queue of small commands the event loop spends its time waiting for the hand-overs (the
 * iSCSI portal served about half of tgt's IOPS from a file LU, bench/src/iscsi). A synchronous
 * call takes microseconds when the data is cached, but blocks the loop when it is not (a
 * disk read, dirty-page throttling on a write). So a store runs its I/O synchronously and
 * times each call; a call longer than `slowNanoseconds` was slow (the data came from the
 * device, or the thread lost the CPU during the call, which on a busy machine happens now and
 * then to the fastest call). When slow calls become a real share of the recent ones (a moving
 * average over about 16 calls above `slowShare`), the store's I/O goes to the thread pool for
 * `threadPoolMilliseconds`, after which it tries synchronous I/O again. So a file that is
 * mostly not cached blocks the loop for a handful of calls per period, and an occasional
 * preemption does not cost the cached case its fast path. Transfers above
 * `maxSynchronousBytes` always use the thread pool: copying them takes long enough to stall
 * the loop even from the page cache, and the hand-overs are small beside the copy.
 * @module
 */

/** Weight of the newest call in the moving average of slow calls (about the last 16 calls). */
const NEWEST_WEIGHT = 1 / 16;

/** Options of {@link IoPathChooser}. */
export interface IoPathOptions {
  /** A synchronous call longer than this came from the device (default 200 µs). */
  readonly slowNanoseconds?: number;
  /** Share of recent calls that were slow above which I/O moves to the thread pool (default 0.25). */
  readonly slowShare?: number;
  /** How long I/O stays on the thread pool once it moved there (default 1000 ms). */
  readonly threadPoolMilliseconds?: number;
  /** Largest transfer run synchronously (default 64 KiB). */
  readonly maxSynchronousBytes?: number;
  /** Monotonic clock in nanoseconds (default `process.hrtime.bigint`), for tests. */
  readonly now?: () => bigint;
}

/** Chooses between synchronous and thread-pool I/O for one file (see the module comment). */
export class IoPathChooser {
  readonly #slow: bigint;
  readonly #maxShare: number;
  readonly #period: bigint;
  readonly #maxBytes: number;
  /** Moving average of slow calls (0..1). */
  #share = 0;
  readonly #now: () => bigint;
  /** The thread pool is used until this instant. */
  #threadPoolUntil = 0n;
  #slowCalls = 0;
  #moves = 0;

  /** See {@link IoPathOptions}. */
  constructor(options: IoPathOptions = {}) {
    this.#slow = BigInt(Math.round(options.slowNanoseconds ?? 200_000));
    this.#maxShare = options.slowShare ?? 0.25;
    this.#period = BigInt(Math.round((options.threadPoolMilliseconds ?? 1000) * 1e6));
    this.#maxBytes = options.maxSynchronousBytes ?? 64 * 1024;
    this.#now = options.now ?? process.hrtime.bigint;
  }

  /** True when the next call should run synchronously (for a transfer of at most `maxSynchronousBytes`). */
  get synchronous(): boolean {
    return this.#now() >= this.#threadPoolUntil;
  }

  /** True when a transfer of `bytes` should run synchronously now. */
  synchronousFor(bytes: number): boolean {
    return bytes <= this.#maxBytes && this.synchronous;
  }

  /** Synchronous calls that were slow so far. */
  get slowCalls(): number {
    return this.#slowCalls;
  }

  /** Times the I/O moved to the thread pool so far. */
  get moves(): number {
    return this.#moves;
  }

  /** Runs a synchronous call, timing it; slow calls becoming common move the I/O to the thread pool. */
  timed<T>(call: () => T): T {
    const start = this.#now();
    try {
      return call();
    } finally {
      const end = this.#now();
      const slow = end - start > this.#slow;
      if (slow) this.#slowCalls++;
      this.#share += ((slow ? 1 : 0) - this.#share) * NEWEST_WEIGHT;
      if (this.#share > this.#maxShare) {
        this.#moves++;
        this.#share = 0; // back from the thread pool, the file is judged afresh
        this.#threadPoolUntil = end + this.#period;
      }
    }
  }
}
