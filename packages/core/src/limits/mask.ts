/**
 * Arithmetic on the kernel's low-bit masks (`dma_alignment`, `seg_boundary_mask`,
 * `virt_boundary_mask`, ...) for addresses beyond 32 bits. JavaScript's bitwise
 * operators truncate to 32 bits, so these use division by `mask + 1`, which is
 * exact for masks of the form 2^k - 1 up to `Number.MAX_SAFE_INTEGER`.
 * @module
 */

/** True when `mask` is 2^k - 1 for some k >= 0 (0 included): the only shape the kernel's masks take. */
export function isLowBitMask(mask: number): boolean {
  if (!Number.isSafeInteger(mask) || mask < 0) return false;
  // mask + 1 must be a power of two; for 2^53 - 1 it is exactly representable.
  const next = mask + 1;
  return next === 2 ** Math.round(Math.log2(next));
}

/** `value & mask` for a low-bit mask and a non-negative safe integer. */
export function maskedBits(value: number, mask: number): number {
  return mask === 0 ? 0 : value % (mask + 1);
}

/** `value & ~mask`: the start of the `mask + 1`-sized window holding `value`. */
export function windowStart(value: number, mask: number): number {
  return value - maskedBits(value, mask);
}

/** `(a | mask) === (b | mask)`: both addresses lie in the same `mask + 1`-sized window. */
export function sameWindow(a: number, b: number, mask: number): boolean {
  return windowStart(a, mask) === windowStart(b, mask);
}
