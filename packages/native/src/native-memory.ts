/**
 * {@link allocateBuffer}: memory the kernel may use in place on every path.
 * @module
 */
import { markAsUntransferable } from 'node:worker_threads';
import { loadAddon } from './load-addon.js';

/**
 * Page-aligned native memory (an anonymous mmap) as a `Uint8Array` over an external
 * ArrayBuffer, for zero-copy data buffers: the sg queue, SG_IO on the addon's threads
 * (bsg, block devices) and direct IO all use it in place, where any other ordinary
 * `Uint8Array` goes through a bounce buffer. The memory is freed only when JavaScript
 * dropped the buffer AND no request uses it any more, so the kernel can never write into
 * freed memory. The ArrayBuffer is marked untransferable: Node 20 copies it on
 * postMessage/structuredClone, later Node versions refuse to transfer it.
 *
 * `length` must be an integer in 1..2^31-1 (InvalidFieldError otherwise); mmap failures
 * are OsError (ENOMEM).
 */
export function allocateBuffer(length: number): Uint8Array {
  const buffer = loadAddon().allocateBuffer(length);
  markAsUntransferable(buffer);
  return new Uint8Array(buffer);
}
