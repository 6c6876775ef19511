/**
 * Command latency with sub-millisecond resolution. Node's timers count whole milliseconds,
 * which would turn scsi_debug-like 100 µs latencies into 1 ms; so delays are kept in a list
 * ordered by deadline, a timer covers the whole milliseconds, and the last fraction is waited
 * for by polling `process.hrtime` from `setImmediate` (the event loop keeps serving I/O in
 * between). Polling only runs while a deadline is less than a millisecond away.
 * @module
 */

interface Pending {
  readonly deadline: bigint;
  readonly fire: () => void;
  cancelled: boolean;
}

/** A deadline-ordered set of callbacks. */
export class LatencyClock {
  readonly #pending: Pending[] = [];
  #timer: NodeJS.Timeout | undefined;
  #timerDeadline = 0n;
  #polling = false;

  /** Runs `fire` after `nanoseconds` (> 0); returns a function that cancels it. */
  schedule(nanoseconds: number, fire: () => void): () => void {
    const entry: Pending = {
      deadline: process.hrtime.bigint() + BigInt(Math.max(0, Math.round(nanoseconds))),
      fire,
      cancelled: false,
    };
    // Insert keeping deadline order (most inserts land at the end: equal latencies).
    let i = this.#pending.length;
    while (i > 0 && (this.#pending[i - 1] as Pending).deadline > entry.deadline) i--;
    this.#pending.splice(i, 0, entry);
    this.#arm();
    return () => {
      entry.cancelled = true;
    };
  }

  /** Pending callbacks (cancelled ones included until their deadline passes). */
  get size(): number {
    return this.#pending.length;
  }

  #arm(): void {
    const first = this.#pending[0];
    if (first === undefined || this.#polling) return;
    const now = process.hrtime.bigint();
    const wait = first.deadline - now;
    if (wait < 1_000_000n) {
      this.#polling = true;
      setImmediate(() => this.#poll());
      return;
    }
    if (this.#timer !== undefined && this.#timerDeadline <= first.deadline) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerDeadline = first.deadline;
    // Wake a millisecond early and poll the rest.
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#arm();
      },
      Number(wait / 1_000_000n) - 1,
    );
  }

  #poll(): void {
    const now = process.hrtime.bigint();
    while (this.#pending.length > 0 && (this.#pending[0] as Pending).deadline <= now) {
      const p = this.#pending.shift() as Pending;
      if (!p.cancelled) p.fire();
    }
    this.#polling = false;
    this.#arm();
  }
}
