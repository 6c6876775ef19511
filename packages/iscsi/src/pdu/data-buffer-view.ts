/**
 * One view over a caller's data buffer, flat or an iovec list (`DataBuffer` from
 * `@sgv4/core`), so PDUs copy straight between the socket and the caller's memory: Data-In
 * segments land where they belong, Data-Out segments are subarrays of the caller's buffer
 * (no copy on the send side).
 * @module
 */
import type { DataBuffer } from '@sgv4/core';

/** A flat or scattered buffer addressed by one byte offset. */
export class DataBufferView {
  readonly #pieces: readonly Uint8Array[];
  readonly #starts: number[];
  /** Total length in bytes. */
  readonly length: number;

  /** Wraps `buffer` (no copy). */
  constructor(buffer: DataBuffer) {
    this.#pieces = buffer instanceof Uint8Array ? [buffer] : buffer;
    this.#starts = [];
    let at = 0;
    for (const p of this.#pieces) {
      this.#starts.push(at);
      at += p.length;
    }
    this.length = at;
  }

  #pieceAt(offset: number): number {
    // Few pieces in practice (1 for a flat buffer); a linear scan beats a search.
    let i = this.#pieces.length - 1;
    while (i > 0 && this.#starts[i]! > offset) i--;
    return i;
  }

  /** Copies `source[start, end)` into the view at `offset`. The caller checks the bounds. */
  write(offset: number, source: Uint8Array, start = 0, end = source.length): void {
    let i = this.#pieceAt(offset);
    let at = offset - this.#starts[i]!;
    let from = start;
    while (from < end) {
      const piece = this.#pieces[i]!;
      const n = Math.min(end - from, piece.length - at);
      piece.set(source.subarray(from, from + n), at);
      from += n;
      i++;
      at = 0;
    }
  }

  /** The bytes `[offset, offset + length)` as subarrays of the caller's buffer (no copy). */
  slices(offset: number, length: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (length === 0) return out;
    let i = this.#pieceAt(offset);
    let at = offset - this.#starts[i]!;
    let left = length;
    while (left > 0) {
      const piece = this.#pieces[i]!;
      const n = Math.min(left, piece.length - at);
      if (n > 0) out.push(piece.subarray(at, at + n));
      left -= n;
      i++;
      at = 0;
    }
    return out;
  }
}
