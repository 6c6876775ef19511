/**
 * The one way this project prints bytes and codes in hexadecimal: lower-case digits,
 * zero-padded, as sg3_utils and the kernel's own messages print them.
 * @module
 */

/** `value` as two (or more) lower-case hex digits without a prefix: `0x5` -> `05`. */
export function hexDigits(value: number, width = 2): string {
  return (value >>> 0).toString(16).padStart(width, '0');
}

/** `value` as `0x` plus two (or more) lower-case hex digits: `0x12` -> `0x12`, `5` -> `0x05`. */
export function hexByte(value: number, width = 2): string {
  return `0x${hexDigits(value, width)}`;
}

/** Bytes as space-separated hex pairs (`"12 00 00"`), for transcripts and error messages. */
export function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => hexDigits(b)).join(' ');
}
