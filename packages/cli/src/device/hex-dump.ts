/** Hex dumps of data bytes, laid out as sg3_utils' `dStrHex` does. */
import { hexBytes } from '@sgv4/core';

/** Lines of offset, 16 bytes in hex, and their printable ASCII. */
export function hexDump(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const hex = hexBytes(row);
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(` ${at.toString(16).padStart(4, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  return lines;
}

/** Lowercase hex without separators. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
