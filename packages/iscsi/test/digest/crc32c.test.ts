import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CRC32C_INIT, crc32c, crc32cFinish, crc32cUpdate, digestBytes, readDigest } from '../../src/index.js';

/** Bit-at-a-time reference (the definition, no tables): reflected 0x82F63B78, init and final XOR all ones. */
function referenceCrc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('CRC32C (RFC 7143 §13.1)', () => {
  it('check value of "123456789" is 0xE3069283', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('RFC 7143 Appendix A.4 examples, in wire byte order (least significant byte first)', () => {
    const zeros = new Uint8Array(32);
    const ones = new Uint8Array(32).fill(0xff);
    const incrementing = Uint8Array.from({ length: 32 }, (_, i) => i);
    const decrementing = Uint8Array.from({ length: 32 }, (_, i) => 31 - i);
    expect(hex(digestBytes(crc32c(zeros)))).toBe('aa36918a');
    expect(hex(digestBytes(crc32c(ones)))).toBe('43aba862');
    expect(hex(digestBytes(crc32c(incrementing)))).toBe('4e79dd46');
    expect(hex(digestBytes(crc32c(decrementing)))).toBe('5cdb3f11');
    // The example iSCSI Read command PDU (48-byte BHS).
    const readPdu = Buffer.from(
      '01c00000000000000000000000000000' +
        '14000000000004000000001400000018' +
        '28000000000000000200000000000000',
      'hex',
    );
    expect(hex(digestBytes(crc32c(readPdu)))).toBe('563a96d9');
  });

  it('readDigest inverts digestBytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (d) => readDigest(digestBytes(d), 0) === d),
    );
  });

  it('slicing-by-8 agrees with the bit-at-a-time definition on any input and any split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (bytes, cut) => {
        const at = bytes.length === 0 ? 0 : cut % (bytes.length + 1);
        const whole = crc32c(bytes);
        const split = crc32cFinish(crc32cUpdate(crc32cUpdate(CRC32C_INIT, bytes, 0, at), bytes, at));
        return whole === referenceCrc32c(bytes) && split === whole;
      }),
    );
  });
});
