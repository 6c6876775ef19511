/**
 * 32-bit serial number arithmetic (RFC 1982), which RFC 7143 §4.2.2 prescribes for CmdSN,
 * StatSN, DataSN and R2TSN comparisons: a is "less than" b when b lies in the 2^31 values
 * after a, wrapping at 2^32.
 * @module
 */

/** a < b in serial arithmetic. Values 2^31 apart are incomparable; this returns false for them. */
export function serialLessThan(a: number, b: number): boolean {
  const d = (b - a) >>> 0;
  return d !== 0 && d < 0x8000_0000;
}

/** a <= b in serial arithmetic. */
export function serialLessOrEqual(a: number, b: number): boolean {
  return a === b || serialLessThan(a, b);
}

/** (a + n) mod 2^32. */
export function serialAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}
