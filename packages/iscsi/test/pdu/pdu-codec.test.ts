import { InvalidFieldError, MalformedDataError, Sgv4Error } from '@sgv4/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AnyOutgoingPdu,
  type AnyPdu,
  BHS_LAYOUTS,
  bidirectionalReadLength,
  bidirectionalReadLengthAhs,
  DataBufferView,
  decodePdu,
  encodePdu,
  encodePduToBytes,
  extendedCdbAhs,
  fullCdb,
  IscsiDigestError,
  IscsiProtocolError,
  lunField,
  lunNumber,
  Opcode,
  type OutgoingPdu,
  type PduKind,
  PduReader,
} from '../../src/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

// RFC 7143 Appendix A.4: the example READ(10) SCSI Command PDU and its CRC32C.
const RFC_READ_PDU =
  '01c00000 00000000 00000000 00000000 14000000 00000400 00000014 00000018 28000000 00000000 02000000 00000000';

describe('BHS encoding (RFC 7143 §11)', () => {
  it('encodes the RFC Appendix A.4 READ(10) command byte for byte, with its header digest', () => {
    const pdu: OutgoingPdu<'SCSI_COMMAND'> = {
      kind: 'SCSI_COMMAND',
      header: {
        final: true,
        read: true,
        lun: 0n,
        itt: 0x14000000,
        expectedDataTransferLength: 1024,
        cmdSN: 0x14,
        expStatSN: 0x18,
        cdb: bytes('28000000000000000200'),
      },
    };
    expect(hex(encodePduToBytes(pdu))).toBe(RFC_READ_PDU.replace(/ /g, ''));
    const withDigest = encodePduToBytes(pdu, { header: true, data: false });
    expect(hex(withDigest.subarray(48))).toBe('563a96d9');
    const back = decodePdu(withDigest, { from: 'initiator', digests: { header: true, data: false } });
    expect(back.kind).toBe('SCSI_COMMAND');
    if (back.kind !== 'SCSI_COMMAND') return;
    expect(back.header).toMatchObject({
      final: true,
      read: true,
      write: false,
      attribute: 0,
      itt: 0x14000000,
    });
    expect(hex(back.header.cdb)).toBe('28000000000000000200000000000000');
  });

  it('puts the I bit, opcode, TotalAHSLength and DataSegmentLength in bytes 0 and 4-7, and pads data to 4', () => {
    const chunks = encodePdu({
      kind: 'NOP_OUT',
      immediate: true,
      header: { final: true, itt: 0xffffffff, ttt: 0x12345678, cmdSN: 7 },
      data: bytes('0102030405'),
    });
    const all = Buffer.concat(chunks);
    expect(all.length).toBe(48 + 8);
    expect(hex(all.subarray(0, 8))).toBe('4080000000000005');
    expect(hex(all.subarray(16, 28))).toBe('ffffffff1234567800000007');
    expect(hex(all.subarray(48))).toBe('0102030405000000');
  });

  it('sends data pieces as given (subarrays of the caller buffer, not copies)', () => {
    const user = new Uint8Array(64).map((_, i) => i);
    const view = new DataBufferView([user.subarray(0, 10), user.subarray(10, 64)]);
    const slices = view.slices(4, 12);
    const chunks = encodePdu({
      kind: 'DATA_OUT',
      header: { final: true, itt: 1, bufferOffset: 4 },
      data: slices,
    });
    expect(chunks[1]!.buffer).toBe(user.buffer);
    expect(chunks[2]!.buffer).toBe(user.buffer);
    expect(Buffer.concat(chunks.slice(1))).toEqual(Buffer.from(user.subarray(4, 16)));
  });

  it('names the field and rule for a value out of range', () => {
    expect(() => encodePdu({ kind: 'SCSI_COMMAND', header: { attribute: 9 } })).toThrow(
      new InvalidFieldError('SCSI Command.attribute', 'must be an integer in 0..7', 9),
    );
    expect(() => encodePdu({ kind: 'LOGIN_REQUEST', header: { isid: new Uint8Array(7) } })).toThrow(
      /Login Request.isid: must be a Uint8Array of at most 6 bytes/,
    );
    expect(() => encodePdu({ kind: 'NOP_OUT', header: { itt: 2 ** 32 } })).toThrow(/NOP-Out.itt/);
  });

  it('Login Request flags: T, C, CSG and NSG', () => {
    const b = encodePduToBytes({
      kind: 'LOGIN_REQUEST',
      immediate: true,
      header: {
        transit: true,
        csg: 1,
        nsg: 3,
        isid: bytes('80123456789a'),
        tsih: 0,
        itt: 1,
        cid: 2,
        cmdSN: 3,
      },
    });
    expect(hex(b.subarray(0, 4))).toBe('43870000');
    expect(hex(b.subarray(8, 24))).toBe('80123456789a0000000000010002' + '0000');
  });
});

describe('AHS (RFC 7143 §11.2.2)', () => {
  it('carries a 32-byte CDB in an Extended CDB AHS (AHSLength = CDB length - 15)', () => {
    const cdb = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const ahs = extendedCdbAhs(cdb)!;
    const b = encodePduToBytes({ kind: 'SCSI_COMMAND', header: { cdb: cdb.subarray(0, 16) }, ahs: [ahs] });
    expect(b[4]).toBe(5); // 3 + 17 = 20 bytes = 5 words
    expect(hex(b.subarray(48, 52))).toBe('00110100');
    const back = decodePdu(b, { from: 'initiator' });
    if (back.kind !== 'SCSI_COMMAND') throw new Error('kind');
    expect(fullCdb(back.header.cdb, back.ahs)).toEqual(cdb);
    expect(extendedCdbAhs(cdb.subarray(0, 16))).toBeUndefined();
  });

  it('carries the bidirectional read length', () => {
    const b = encodePduToBytes({
      kind: 'SCSI_COMMAND',
      header: {},
      ahs: [bidirectionalReadLengthAhs(0x10203)],
    });
    expect(hex(b.subarray(48, 56))).toBe('0005020000010203');
    const back = decodePdu(b, { from: 'initiator' });
    expect(bidirectionalReadLength(back.ahs)).toBe(0x10203);
  });

  it('an AHSLength running past TotalAHSLength is a MalformedDataError', () => {
    const b = encodePduToBytes({ kind: 'SCSI_COMMAND', header: {}, ahs: [bidirectionalReadLengthAhs(1)] });
    b[49] = 9;
    expect(() => decodePdu(b, { from: 'initiator' })).toThrow(MalformedDataError);
  });
});

describe('LUN field (Linux int_to_scsilun)', () => {
  it('maps numbers level by level, lowest 16 bits first', () => {
    expect(lunField(1)).toBe(0x0001_0000_0000_0000n);
    expect(lunField(0x4100)).toBe(0x4100_0000_0000_0000n);
    expect(lunField(0x1_0002)).toBe(0x0002_0001_0000_0000n);
    expect(lunNumber(lunField(0x1234_5678))).toBe(0x1234_5678n);
    expect(lunField(0x0001_0000_0000_0000n)).toBe(0x0001_0000_0000_0000n);
    expect(() => lunField(-1)).toThrow(InvalidFieldError);
  });
});

describe('PduReader', () => {
  const samples: AnyOutgoingPdu[] = [
    {
      kind: 'NOP_IN',
      header: { final: true, itt: 5, ttt: 0xffffffff, statSN: 1, expCmdSN: 2, maxCmdSN: 33 },
    },
    {
      kind: 'DATA_IN',
      header: { final: true, statusPresent: true, itt: 9, dataSN: 0, bufferOffset: 0, statSN: 4 },
      data: Uint8Array.from({ length: 4097 }, (_, i) => i * 7),
    },
    {
      kind: 'SCSI_RESPONSE',
      header: { final: true, status: 2, itt: 3 },
      data: bytes('0012700005000000000a00000000240000000000'),
    },
    {
      kind: 'R2T',
      header: {
        final: true,
        itt: 3,
        ttt: 77,
        r2tSN: 1,
        bufferOffset: 8192,
        desiredDataTransferLength: 65536,
      },
    },
  ];

  it('reassembles PDUs split at every byte boundary, with and without digests', () => {
    for (const digests of [
      { header: false, data: false },
      { header: true, data: true },
    ]) {
      const stream = Buffer.concat(samples.map((p) => encodePduToBytes(p, digests)));
      for (const step of [1, 3, 47, 48, 49, 4096, stream.length]) {
        const reader = new PduReader({ from: 'target', maxDataSegmentLength: 8192, digests });
        const got: AnyPdu[] = [];
        for (let at = 0; at < stream.length; at += step)
          reader.push(stream.subarray(at, at + step), (p) => got.push(p));
        expect(got.map((p) => p.kind)).toEqual(samples.map((p) => p.kind));
        expect(got[1]!.data).toEqual(samples[1]!.data);
        expect(reader.idle).toBe(true);
      }
    }
  });

  it('places Data-In straight into a scattered caller buffer', () => {
    const a = new Uint8Array(1000);
    const b = new Uint8Array(4000);
    const view = new DataBufferView([a, b]);
    const reader = new PduReader({
      from: 'target',
      maxDataSegmentLength: 8192,
      digests: { header: true, data: true },
      placeData: (kind, header) =>
        kind === 'DATA_IN'
          ? { buffer: view, offset: new DataView(header.buffer, header.byteOffset).getUint32(40) }
          : undefined,
    });
    const payload = samples[1]!.data as Uint8Array;
    const pdu = { ...samples[1]!, header: { ...samples[1]!.header, bufferOffset: 900 } } as AnyOutgoingPdu;
    const got: AnyPdu[] = [];
    reader.push(encodePduToBytes(pdu, { header: true, data: true }), (p) => got.push(p));
    expect(got[0]!.placed).toBe(true);
    expect(got[0]!.data.length).toBe(0);
    expect(Buffer.concat([a, b]).subarray(900, 900 + payload.length)).toEqual(Buffer.from(payload));
  });

  it('rejects Data-In that runs past the task buffer', () => {
    const view = new DataBufferView(new Uint8Array(100));
    const reader = new PduReader({
      from: 'target',
      maxDataSegmentLength: 8192,
      placeData: () => ({ buffer: view, offset: 0 }),
    });
    expect(() => reader.push(encodePduToBytes(samples[1]!), () => {})).toThrow(IscsiProtocolError);
  });

  it('detects a flipped bit in the header or the data by digest', () => {
    const digests = { header: true, data: true };
    const good = encodePduToBytes(samples[1]!, digests);
    const badHeader = good.slice();
    badHeader[20]! ^= 1;
    expect(() => decodePdu(badHeader, { from: 'target', digests })).toThrow(
      expect.objectContaining({ digest: 'header', name: 'IscsiDigestError' }),
    );
    const badData = good.slice();
    badData[48 + 4 + 100]! ^= 0x80;
    expect(() => decodePdu(badData, { from: 'target', digests })).toThrow(IscsiDigestError);
    const badPad = good.slice();
    badPad[48 + 4 + 4097] = 1; // padding is covered by the data digest
    expect(() => decodePdu(badPad, { from: 'target', digests })).toThrow(/data digest mismatch/);
  });

  it('refuses initiator opcodes from a target, unknown opcodes and oversized segments', () => {
    expect(() => decodePdu(encodePduToBytes({ kind: 'NOP_OUT', header: {} }), { from: 'target' })).toThrow(
      /NOP-Out: not a PDU a target sends/,
    );
    const vendor = new Uint8Array(48);
    vendor[0] = 0x3c;
    expect(() => decodePdu(vendor, { from: 'target' })).toThrow(/opcode 0x3c/);
    const big = encodePduToBytes({ kind: 'TEXT_RESPONSE', header: {}, data: new Uint8Array(9000) });
    expect(() => decodePdu(big, { from: 'target', maxDataSegmentLength: 8192 })).toThrow(
      /DataSegmentLength 9000: exceeds MaxRecvDataSegmentLength 8192/,
    );
  });

  it('stays failed after an error (no resynchronization at ErrorRecoveryLevel 0)', () => {
    const reader = new PduReader({ from: 'target', maxDataSegmentLength: 8192 });
    const bad = new Uint8Array(48);
    bad[0] = 0x01;
    expect(() => reader.push(bad, () => {})).toThrow(IscsiProtocolError);
    expect(() => reader.push(encodePduToBytes(samples[0]!), () => {})).toThrow(IscsiProtocolError);
  });

  it('round-trips every PDU kind field by field', () => {
    const kinds = Object.keys(Opcode) as PduKind[];
    for (const kind of kinds) {
      const layout = BHS_LAYOUTS[kind];
      const header: Record<string, unknown> = {};
      let n = 1;
      for (const [name, f] of Object.entries(layout.fields)) {
        n++;
        header[name] =
          f.kind === 'flag'
            ? n % 2 === 0
            : f.kind === 'bits'
              ? n % (1 << f.width)
              : f.kind === 'u64'
                ? 0x0102030405060708n + BigInt(n)
                : f.kind === 'bytes'
                  ? Uint8Array.from({ length: f.length }, (_, i) => i + n)
                  : n * 3;
      }
      const from = Opcode[kind] < 0x20 ? 'initiator' : 'target';
      const back = decodePdu(encodePduToBytes({ kind, header } as AnyOutgoingPdu), { from });
      expect(back.kind).toBe(kind);
      expect(back.header).toEqual(header);
    }
  });
});

describe('decoder fuzzing: malformed input gives typed errors, never a crash', () => {
  const typed = (e: unknown) => e instanceof Sgv4Error || e instanceof InvalidFieldError;

  it('random byte streams', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), fc.boolean(), (stream, header, data) => {
        const reader = new PduReader({
          from: 'target',
          maxDataSegmentLength: 512,
          digests: { header, data },
        });
        try {
          reader.push(stream, () => {});
        } catch (e) {
          if (!typed(e)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('valid PDUs with random bytes overwritten', () => {
    const valid = Buffer.concat([
      encodePduToBytes({ kind: 'DATA_IN', header: { itt: 1 }, data: new Uint8Array(100) }),
      encodePduToBytes({ kind: 'SCSI_RESPONSE', header: {}, ahs: [bidirectionalReadLengthAhs(4)] }),
    ]);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        (edits) => {
          const b = Uint8Array.from(valid);
          for (const [at, v] of edits) b[at] = v;
          const reader = new PduReader({ from: 'target', maxDataSegmentLength: 4096 });
          try {
            reader.push(b, () => {});
          } catch (e) {
            if (!typed(e)) throw e;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
