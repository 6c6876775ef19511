/**
 * {@link PreparedCommand}: a request validated and pinned once, run many times.
 * @module
 */
import { decodeSgIoV4, type SgIoV4Header } from '@sgv4/core';
import { type AbortRegistry, COMPLETED } from './abort-registry.js';
import type { NativeCommand } from './binding.js';

/** The native command of each PreparedCommand, for ScsiHandle.runMany (not exported from the package). */
const natives = new WeakMap<PreparedCommand, NativeCommand>();

/** The native command behind a PreparedCommand; undefined for anything else. */
export function nativeCommandOf(command: PreparedCommand): NativeCommand | undefined {
  return natives.get(command);
}

/**
 * A prepared request, from {@link ScsiHandle.prepare}. Validation, the choice of memory for
 * each buffer (in place, or a bounce buffer) and pinning happen once; each {@link run} then
 * costs one write() on sg (one hop to an addon thread on bsg and block devices) and one
 * promise. The CDB bytes are re-read from the `cdb` view at every run, so an LBA may change
 * between runs; data-out that goes through a bounce buffer is re-copied. The other header
 * fields are read once, at prepare(): prepare again to change them. A command runs once at
 * a time.
 */
export class PreparedCommand implements Disposable {
  /**
   * The encoded sg_io_v4: the caller's Uint8Array, or one encoded from the header object.
   * Its output fields (device_status .. spare_out) are updated at every completion.
   */
  readonly header: Uint8Array;
  readonly #native: NativeCommand;
  readonly #aborts: AbortRegistry;

  /** Use {@link ScsiHandle.prepare}. @internal */
  constructor(header: Uint8Array, native: NativeCommand, aborts: AbortRegistry) {
    this.header = header;
    this.#native = native;
    this.#aborts = aborts;
    natives.set(this, native);
  }

  /** A run is in flight (an abandoned run stays in flight until the kernel completes it). */
  get running(): boolean {
    return this.#native.running;
  }

  /**
   * Runs the command once more. Resolves when the kernel completed it (results in
   * {@link header}); rejects with OsError, with InvalidFieldError (field `command` when it
   * is already running or released, a view detached since prepare()), or with AbortedError
   * when `signal` aborts it. Never throws.
   */
  run(signal?: AbortSignal): Promise<void> {
    try {
      if (signal === undefined) return this.#native.run(0) ?? COMPLETED;
      return this.#aborts.track(signal, (id) => this.#native.run(id));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Runs it on the calling thread (blocks it until the kernel completes the command). */
  runSync(): void {
    this.#native.runSync();
  }

  /** The results of the last run: `decodeSgIoV4(header)`. */
  result(): SgIoV4Header {
    return decodeSgIoV4(this.header);
  }

  /** Unpins the buffers; a run in flight keeps them until it completes. Later runs reject. */
  release(): void {
    this.#native.release();
  }

  /** {@link release}. */
  [Symbol.dispose](): void {
    this.release();
  }
}
