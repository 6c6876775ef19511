/** The few SCSI commands the native tests send, built as plain CDB bytes, plus request helpers. */
import { createSgIoV4Header, encodeSgIoV4, type SgIoV4Header } from '@sgv4/core';
import type { SgIoRequest } from '@sgv4/native';

/** INQUIRY (SPC), allocation length `length`. */
export function inquiryCdb(length = 96): Uint8Array {
  return Uint8Array.of(0x12, 0, 0, 0, length, 0);
}

/** READ CAPACITY(10) (SBC). */
export function readCapacity10Cdb(): Uint8Array {
  return Uint8Array.of(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}

function rw10(opcode: number, lba: number, blocks: number): Uint8Array {
  const cdb = new Uint8Array(10);
  const view = new DataView(cdb.buffer);
  cdb[0] = opcode;
  view.setUint32(2, lba);
  view.setUint16(7, blocks);
  return cdb;
}

/** READ(10). */
export function read10Cdb(lba: number, blocks: number): Uint8Array {
  return rw10(0x28, lba, blocks);
}

/** WRITE(10). */
export function write10Cdb(lba: number, blocks: number): Uint8Array {
  return rw10(0x2a, lba, blocks);
}

/** Fills `bytes` with a pattern derived from `seed` (so each LBA range is recognisable). */
export function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (seed * 31 + i * 7 + (i >> 9)) & 0xff;
  return bytes;
}

/** A data-in request with a 32-byte sense buffer. */
export function dataInRequest(
  cdb: Uint8Array,
  length: number,
  extra: Partial<SgIoV4Header> = {},
): SgIoRequest & {
  dataIn: Uint8Array;
  sense: Uint8Array;
} {
  return {
    header: createSgIoV4Header({
      requestLen: cdb.length,
      dinXferLen: length,
      maxResponseLen: 32,
      timeout: 20_000,
      ...extra,
    }),
    cdb,
    sense: new Uint8Array(32),
    dataIn: new Uint8Array(length),
  };
}

/** A data-out request with a 32-byte sense buffer. */
export function dataOutRequest(
  cdb: Uint8Array,
  data: Uint8Array,
  extra: Partial<SgIoV4Header> = {},
): SgIoRequest {
  return {
    header: createSgIoV4Header({
      requestLen: cdb.length,
      doutXferLen: data.length,
      maxResponseLen: 32,
      timeout: 20_000,
      ...extra,
    }),
    cdb,
    sense: new Uint8Array(32),
    dataOut: data,
  };
}

/** An encoded header for the hot-path calls. */
export function encodedHeader(partial: Partial<SgIoV4Header>): Uint8Array {
  return encodeSgIoV4(createSgIoV4Header({ timeout: 20_000, maxResponseLen: 32, ...partial }));
}
