/**
 * CRC32C, the iSCSI header and data digest (RFC 7143 §13.1; examples in its Appendix A.4).
 *
 * The Castagnoli polynomial 0x1EDC6F41 (0x11EDC6F41 with the x^32 term), bit-reflected as
 * 0x82F63B78, with initial value 0xFFFFFFFF and final XOR 0xFFFFFFFF; check value
 * crc32c("123456789") = 0xE3069283. Computed slicing-by-8 (eight 256-entry tables), which
 * in V8 runs at roughly a gigabyte per second, enough for data digests at line rate on
 * loopback.
 *
 * On the wire the 32-bit digest is the one field that is NOT big-endian: its least
 * significant byte goes first. Linux stores the digest with `put_unaligned_le32`
 * (crypto/crc32c_generic.c `chksum_final`, used by drivers/scsi/libiscsi_tcp.c
 * `iscsi_tcp_dgst_header`), and libiscsi reads and writes it the same way (lib/pdu.c).
 * @module
 */

/** The reflected Castagnoli polynomial. */
export const CRC32C_POLYNOMIAL_REFLECTED = 0x82f63b78;

function buildTables(): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  const t0 = tables[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC32C_POLYNOMIAL_REFLECTED : c >>> 1;
    t0[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t0[n]!;
    for (let k = 1; k < 8; k++) {
      c = t0[c & 0xff]! ^ (c >>> 8);
      tables[k]![n] = c >>> 0;
    }
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7] = buildTables() as [
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
];

/**
 * Continues a CRC32C over `bytes[start, end)`. `state` is the running register (start with
 * {@link CRC32C_INIT}); finish with {@link crc32cFinish}. Lets a digest span several buffers
 * (a header and its AHS, a data segment and its padding) without copying them together.
 */
export function crc32cUpdate(state: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = state >>> 0;
  let i = start;
  // Slicing-by-8: fold eight bytes per step through the eight tables.
  const stop8 = end - ((end - i) & 7);
  while (i < stop8) {
    const lo = (c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0;
    c =
      T7[lo & 0xff]! ^
      T6[(lo >>> 8) & 0xff]! ^
      T5[(lo >>> 16) & 0xff]! ^
      T4[lo >>> 24]! ^
      T3[bytes[i + 4]!]! ^
      T2[bytes[i + 5]!]! ^
      T1[bytes[i + 6]!]! ^
      T0[bytes[i + 7]!]!;
    i += 8;
  }
  while (i < end) c = T0[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

/** The initial register value (all ones). */
export const CRC32C_INIT = 0xffffffff;

/** The final XOR: turns a running register into the CRC value. */
export function crc32cFinish(state: number): number {
  return (state ^ 0xffffffff) >>> 0;
}

/** CRC32C of one buffer (or a range of it). */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crc32cFinish(crc32cUpdate(CRC32C_INIT, bytes, start, end));
}

/** Writes a digest in wire order (least significant byte first, see the module note). */
export function writeDigest(target: Uint8Array, offset: number, digest: number): void {
  target[offset] = digest & 0xff;
  target[offset + 1] = (digest >>> 8) & 0xff;
  target[offset + 2] = (digest >>> 16) & 0xff;
  target[offset + 3] = (digest >>> 24) & 0xff;
}

/** Reads a digest in wire order (least significant byte first). */
export function readDigest(source: Uint8Array, offset: number): number {
  return (
    (source[offset]! |
      (source[offset + 1]! << 8) |
      (source[offset + 2]! << 16) |
      (source[offset + 3]! << 24)) >>>
    0
  );
}

/** The 4 wire bytes of a digest. */
export function digestBytes(digest: number): Uint8Array {
  const out = new Uint8Array(4);
  writeDigest(out, 0, digest);
  return out;
}
