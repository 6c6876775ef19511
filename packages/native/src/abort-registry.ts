/**
 * Ties AbortSignals to requests of one handle: the addon knows a request by a number,
 * the registry listens on the signal and asks the addon to abandon that number.
 * @module
 */
import { AbortedError } from '@sgv4/core';

/**
 * The promise of a request the addon completed inside the call that submitted it (it
 * answers undefined then): one shared, already-resolved promise, so the fast path
 * allocates none.
 */
export const COMPLETED: Promise<void> = Promise.resolve();

/** Per handle: numbers requests that carry an AbortSignal. @internal */
export class AbortRegistry {
  #next = 0;
  readonly #path: string;
  readonly #abandon: (id: number, reason: unknown) => boolean;

  /** `abandon(id, reason)` is the addon's NativeHandle.abandon. */
  constructor(path: string, abandon: (id: number, reason: unknown) => boolean) {
    this.#path = path;
    this.#abandon = abandon;
  }

  /** The AbortedError of a request whose signal was aborted before it was sent. */
  alreadyAborted(signal: AbortSignal): AbortedError {
    return new AbortedError(`SCSI command on ${this.#path} (aborted before it was sent)`, signal.reason);
  }

  /** A fresh request number. */
  nextId(): number {
    this.#next += 1;
    return this.#next;
  }

  /**
   * Listens on `signal` for the request numbered `id` until `promise` settles. An abort then
   * rejects the request at once: still queued in the library, it is never sent; already in
   * the kernel, it is abandoned (the kernel cannot abort it) and keeps its buffers until the
   * kernel completes it.
   */
  watch(signal: AbortSignal, id: number, promise: Promise<void>): void {
    const onAbort = (): void => {
      this.#abandon(id, signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (): void => signal.removeEventListener('abort', onAbort);
    promise.then(done, done);
  }

  /** Starts one request tied to `signal` (rejects at once when it is already aborted). */
  track(signal: AbortSignal, start: (id: number) => Promise<void> | undefined): Promise<void> {
    if (signal.aborted) return Promise.reject(this.alreadyAborted(signal));
    const id = this.nextId();
    const promise = start(id);
    if (promise === undefined) return COMPLETED; // done before anything could abort it
    this.watch(signal, id, promise);
    return promise;
  }
}
