/**
 * PDU framing (RFC 7143 §11.2): encoding a PDU into the chunks a socket writes, and a
 * streaming reader that turns TCP bytes back into PDUs.
 *
 * A PDU on the wire is: the 48-byte BHS; TotalAHSLength*4 bytes of AHS; a 4-byte header digest
 * over BHS+AHS when HeaderDigest=CRC32C; DataSegmentLength bytes of data padded with zeros to a
 * multiple of 4 (the padding is not counted in DataSegmentLength, §11.2.3); a 4-byte data digest
 * over data+padding when DataDigest=CRC32C and the segment is not empty (§13.1). Digests apply
 * from the first PDU after the final Login Response (§13.1), which is why the reader's digest
 * settings are switchable between PDUs.
 * @module
 */
import { MalformedDataError } from '@sgv4/core';
import { CRC32C_INIT, crc32cFinish, crc32cUpdate, readDigest, writeDigest } from '../digest/crc32c.js';
import { IscsiDigestError, IscsiProtocolError } from '../errors.js';
import { type AdditionalHeader, decodeAhs, encodeAhs } from './ahs.js';
import {
  BHS_LAYOUTS,
  type BhsFields,
  isInitiatorOpcode,
  Opcode,
  opcodeName,
  type PduKind,
  pduKindOf,
} from './bhs-layouts.js';
import type { DataBufferView } from './data-buffer-view.js';
import { decodeLayout, encodeLayout, type LayoutInput } from './field-layout.js';

/** Length of the Basic Header Segment. */
export const BHS_LENGTH = 48;

/** Largest DataSegmentLength the 3-byte field holds (2^24 - 1, RFC 7143 §11.2.1.4). */
export const MAX_DATA_SEGMENT_LENGTH = 0xffffff;

/** Whether header and data digests (CRC32C) are in use on a connection. */
export interface DigestSettings {
  /** HeaderDigest=CRC32C. */
  readonly header: boolean;
  /** DataDigest=CRC32C. */
  readonly data: boolean;
}

/** No digests: the state during login (§13.1). */
export const NO_DIGESTS: DigestSettings = Object.freeze({ header: false, data: false });

/** A decoded PDU. */
export interface Pdu<K extends PduKind = PduKind> {
  /** What it is. */
  readonly kind: K;
  /** The I bit (RFC 7143 §11.2.1.1): an immediate PDU, delivered outside CmdSN order. */
  readonly immediate: boolean;
  /** The BHS fields. */
  readonly header: BhsFields<K>;
  /** The AHSs, in order. */
  readonly ahs: readonly AdditionalHeader[];
  /** DataSegmentLength. */
  readonly dataLength: number;
  /**
   * The data segment without padding; empty when the reader placed it straight into a
   * caller's buffer (see {@link PduReaderOptions.placeData}).
   */
  readonly data: Uint8Array;
  /** True when the data went into a caller's buffer instead of `data`. */
  readonly placed: boolean;
}

/** Any decoded PDU, discriminated by `kind`. */
export type AnyPdu = { [K in PduKind]: Pdu<K> }[PduKind];

/** A PDU to send. */
export interface OutgoingPdu<K extends PduKind = PduKind> {
  /** What it is. */
  readonly kind: K;
  /** Set the I bit (default false). */
  readonly immediate?: boolean;
  /** BHS fields; absent ones are zero. */
  readonly header: LayoutInput<(typeof BHS_LAYOUTS)[K]>;
  /** AHSs (default none). */
  readonly ahs?: readonly AdditionalHeader[];
  /** The data segment, whole or as pieces sent back to back (subarrays of a caller's buffer). */
  readonly data?: Uint8Array | readonly Uint8Array[];
}

/** Any PDU to send, discriminated by `kind` (so its header fields are checked against that kind). */
export type AnyOutgoingPdu = { [K in PduKind]: OutgoingPdu<K> }[PduKind];

const ZERO_PAD = new Uint8Array(4);

function padLength(n: number): number {
  return (4 - (n & 3)) & 3;
}

/**
 * Encodes a PDU as the chunks to write back to back: the header (BHS, AHS and header digest in
 * one buffer), then the data pieces as given (not copied), then padding and data digest.
 * InvalidFieldError names any field out of range.
 */
export function encodePdu(pdu: AnyOutgoingPdu, digests: DigestSettings = NO_DIGESTS): Uint8Array[] {
  const pieces = pdu.data === undefined ? [] : pdu.data instanceof Uint8Array ? [pdu.data] : pdu.data;
  let dataLength = 0;
  for (const p of pieces) dataLength += p.length;
  if (dataLength > MAX_DATA_SEGMENT_LENGTH) {
    throw new MalformedDataError({
      what: `${BHS_LAYOUTS[pdu.kind].name} data segment`,
      offset: 0,
      needed: MAX_DATA_SEGMENT_LENGTH,
      available: dataLength,
      reason: `${dataLength} bytes exceed the 24-bit DataSegmentLength`,
    });
  }
  const ahs = pdu.ahs === undefined || pdu.ahs.length === 0 ? undefined : encodeAhs(pdu.ahs);
  const ahsLength = ahs?.length ?? 0;
  // A Buffer from Node's pool: the socket takes it as is (a plain Uint8Array would be wrapped
  // into a Buffer at every write).
  const header = Buffer.allocUnsafe(BHS_LENGTH + ahsLength + (digests.header ? 4 : 0)).fill(0);
  header[0] = (pdu.immediate ? 0x40 : 0) | Opcode[pdu.kind];
  encodeLayout(BHS_LAYOUTS[pdu.kind], pdu.header as never, header);
  header[4] = ahsLength / 4;
  header[5] = (dataLength >>> 16) & 0xff;
  header[6] = (dataLength >>> 8) & 0xff;
  header[7] = dataLength & 0xff;
  if (ahs !== undefined) header.set(ahs, BHS_LENGTH);
  if (digests.header) {
    writeDigest(
      header,
      BHS_LENGTH + ahsLength,
      crc32cFinish(crc32cUpdate(CRC32C_INIT, header, 0, BHS_LENGTH + ahsLength)),
    );
  }
  const out: Uint8Array[] = [header];
  if (dataLength === 0) return out;
  for (const p of pieces) if (p.length > 0) out.push(p);
  const pad = padLength(dataLength);
  if (!digests.data) {
    if (pad > 0) out.push(ZERO_PAD.subarray(0, pad));
    return out;
  }
  let crc = CRC32C_INIT;
  for (const p of pieces) crc = crc32cUpdate(crc, p);
  const trailer = new Uint8Array(pad + 4);
  crc = crc32cUpdate(crc, trailer, 0, pad);
  writeDigest(trailer, pad, crc32cFinish(crc));
  out.push(trailer);
  return out;
}

/** {@link encodePdu} joined into one buffer (for tests and tools). */
export function encodePduToBytes(pdu: AnyOutgoingPdu, digests: DigestSettings = NO_DIGESTS): Uint8Array {
  const chunks = encodePdu(pdu, digests);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Where the reader should put a PDU's data segment instead of a new buffer. */
export interface DataPlacement {
  /** The caller's buffer. */
  readonly buffer: DataBufferView;
  /** Where the segment's first byte goes. The reader checks that the segment fits. */
  readonly offset: number;
}

/** Options of a {@link PduReader}. */
export interface PduReaderOptions {
  /** Which side's PDUs to accept: an initiator reads `target` PDUs (opcodes 0x20-0x3f). */
  readonly from: 'initiator' | 'target';
  /** The largest DataSegmentLength accepted: our MaxRecvDataSegmentLength (§13.12). */
  readonly maxDataSegmentLength: number;
  /** Digest settings at the start (default none, as during login). */
  readonly digests?: DigestSettings;
  /**
   * Called with each BHS that carries data, before the data is read: return a placement to
   * have the data copied straight into a caller's buffer (Data-In), or undefined for a new
   * buffer. May throw (e.g. IscsiProtocolError for an offset outside the task's buffer).
   */
  readonly placeData?: (kind: PduKind, header: Uint8Array) => DataPlacement | undefined;
}

type ReaderState = 'bhs' | 'ahs' | 'data';

/**
 * Incremental PDU reader: `push()` TCP chunks, get PDUs through the callback as soon as each
 * is complete. Errors are typed: IscsiProtocolError (opcode not valid from that side, data
 * segment above the limit), IscsiDigestError, MalformedDataError (an AHS that overruns its
 * area). After an error the reader is unusable: the connection must be dropped (at
 * ErrorRecoveryLevel 0 there is no resynchronization, RFC 7143 §7.1.4.3).
 */
export class PduReader {
  /** Digests applied to the next PDU onwards; switch after the final Login Response. */
  digests: DigestSettings;
  /** Largest DataSegmentLength accepted; raise it when login completes. */
  maxDataSegmentLength: number;
  readonly #from: 'initiator' | 'target';
  readonly #placeData: PduReaderOptions['placeData'];
  #state: ReaderState = 'bhs';
  #failed: unknown;
  // Header accumulation (BHS + AHS + header digest).
  #header = new Uint8Array(BHS_LENGTH);
  #headerFill = 0;
  #headerNeed = BHS_LENGTH;
  #kind: PduKind = 'NOP_IN';
  #ahsLength = 0;
  // Data accumulation.
  #dataLength = 0;
  #dataNeed = 0; // data + padding + data digest
  #dataFill = 0;
  #data: Uint8Array = new Uint8Array(0);
  #placement: DataPlacement | undefined;
  #dataCrc = CRC32C_INIT;
  #digestBytes = new Uint8Array(4);
  #pdusRead = 0;
  #paused = false;
  #stash: Uint8Array[] = [];

  /** See {@link PduReaderOptions}. */
  constructor(options: PduReaderOptions) {
    this.#from = options.from;
    this.maxDataSegmentLength = options.maxDataSegmentLength;
    this.digests = options.digests ?? NO_DIGESTS;
    this.#placeData = options.placeData;
  }

  /** PDUs completed so far. */
  get pdusRead(): number {
    return this.#pdusRead;
  }

  /** True between PDUs (no partial PDU buffered). */
  get idle(): boolean {
    return this.#state === 'bhs' && this.#headerFill === 0;
  }

  /**
   * Stops after the PDU being delivered: bytes pushed from now on are kept, unparsed, until
   * {@link resume}. A login uses it on its final Login Response, so digests can be switched on
   * before the next PDU is parsed (RFC 7143 §13.1: they start right after that response).
   */
  pause(): void {
    this.#paused = true;
  }

  /** True while paused. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Parses what arrived while paused, then carries on. */
  resume(onPdu: (pdu: AnyPdu) => void): void {
    this.#paused = false;
    const stash = this.#stash;
    this.#stash = [];
    for (let i = 0; i < stash.length; i++) {
      this.push(stash[i]!, onPdu);
      if (this.#paused) {
        this.#stash.push(...stash.slice(i + 1));
        return;
      }
    }
  }

  /**
   * Consumes `chunk`, calling `onPdu` for every PDU it completes. Throws the first error (see
   * the class note). Every byte is copied out, so the caller may reuse `chunk` afterwards.
   */
  push(chunk: Uint8Array, onPdu: (pdu: AnyPdu) => void): void {
    if (this.#failed !== undefined) throw this.#failed;
    // Chunks kept for later are copied: the caller may reuse its read buffer.
    if (this.#paused) {
      this.#stash.push(chunk.slice());
      return;
    }
    try {
      let at = 0;
      while (at < chunk.length) {
        if (this.#paused) {
          this.#stash.unshift(chunk.slice(at));
          return;
        }
        if (this.#state === 'bhs' || this.#state === 'ahs') {
          const n = Math.min(this.#headerNeed - this.#headerFill, chunk.length - at);
          this.#header.set(chunk.subarray(at, at + n), this.#headerFill);
          this.#headerFill += n;
          at += n;
          if (this.#headerFill < this.#headerNeed) break;
          if (this.#state === 'bhs') {
            this.#startHeader();
            if (this.#headerFill < this.#headerNeed) continue;
          }
          const done = this.#finishHeader();
          if (done !== undefined) onPdu(done);
        } else {
          at = this.#consumeData(chunk, at);
          if (this.#dataFill === this.#dataNeed) onPdu(this.#finishData());
        }
      }
    } catch (error) {
      this.#failed = error;
      throw error;
    }
  }

  #startHeader(): void {
    const h = this.#header;
    const opcode = h[0]! & 0x3f;
    const kind = pduKindOf(opcode);
    const fromInitiator = isInitiatorOpcode(opcode);
    if (kind === undefined || fromInitiator !== (this.#from === 'initiator')) {
      throw new IscsiProtocolError(
        `PDU ${this.#pdusRead + 1}: ${opcodeName(opcode)}`,
        `not a PDU ${this.#from === 'target' ? 'a target' : 'an initiator'} sends (RFC 7143 §11.2.1.2)`,
      );
    }
    this.#kind = kind;
    this.#ahsLength = h[4]! * 4;
    this.#dataLength = (h[5]! << 16) | (h[6]! << 8) | h[7]!;
    if (this.#dataLength > this.maxDataSegmentLength) {
      throw new IscsiProtocolError(
        `${BHS_LAYOUTS[kind].name}: DataSegmentLength ${this.#dataLength}`,
        `exceeds MaxRecvDataSegmentLength ${this.maxDataSegmentLength} (RFC 7143 §13.12)`,
      );
    }
    const need = BHS_LENGTH + this.#ahsLength + (this.digests.header ? 4 : 0);
    if (need > BHS_LENGTH) {
      const grown = new Uint8Array(need);
      grown.set(h.subarray(0, BHS_LENGTH));
      this.#header = grown;
    }
    this.#headerNeed = need;
    this.#state = 'ahs';
  }

  /** Header complete: check its digest, then either emit (no data) or start the data. */
  #finishHeader(): AnyPdu | undefined {
    const h = this.#header;
    const covered = BHS_LENGTH + this.#ahsLength;
    if (this.digests.header) {
      const computed = crc32cFinish(crc32cUpdate(CRC32C_INIT, h, 0, covered));
      const received = readDigest(h, covered);
      if (computed !== received)
        throw new IscsiDigestError('header', computed, received, BHS_LAYOUTS[this.#kind].name);
    }
    if (this.#dataLength === 0) return this.#emit(new Uint8Array(0), false);
    this.#placement = this.#placeData?.(this.#kind, h.subarray(0, BHS_LENGTH));
    if (this.#placement !== undefined) {
      const { buffer, offset } = this.#placement;
      if (offset < 0 || offset + this.#dataLength > buffer.length) {
        throw new IscsiProtocolError(
          `${BHS_LAYOUTS[this.#kind].name}: ${this.#dataLength} bytes at buffer offset ${offset}`,
          `run past the ${buffer.length}-byte buffer of the task (RFC 7143 §11.7.5: offset + length must not exceed the expected transfer length)`,
        );
      }
      this.#data = new Uint8Array(0);
    } else {
      this.#data = new Uint8Array(this.#dataLength);
    }
    this.#dataNeed = this.#dataLength + padLength(this.#dataLength) + (this.digests.data ? 4 : 0);
    this.#dataFill = 0;
    this.#dataCrc = CRC32C_INIT;
    this.#state = 'data';
    return undefined;
  }

  #consumeData(chunk: Uint8Array, at: number): number {
    const want = Math.min(this.#dataNeed - this.#dataFill, chunk.length - at);
    let pos = at;
    const end = at + want;
    // Data bytes proper.
    if (this.#dataFill < this.#dataLength) {
      const n = Math.min(this.#dataLength - this.#dataFill, end - pos);
      if (this.digests.data) this.#dataCrc = crc32cUpdate(this.#dataCrc, chunk, pos, pos + n);
      if (this.#placement !== undefined) {
        this.#placement.buffer.write(this.#placement.offset + this.#dataFill, chunk, pos, pos + n);
      } else {
        this.#data.set(chunk.subarray(pos, pos + n), this.#dataFill);
      }
      this.#dataFill += n;
      pos += n;
    }
    // Padding (covered by the data digest, RFC 7143 §13.1), then the digest itself.
    const padEnd = this.#dataLength + padLength(this.#dataLength);
    if (pos < end && this.#dataFill < padEnd) {
      const n = Math.min(padEnd - this.#dataFill, end - pos);
      if (this.digests.data) this.#dataCrc = crc32cUpdate(this.#dataCrc, chunk, pos, pos + n);
      this.#dataFill += n;
      pos += n;
    }
    while (pos < end) {
      this.#digestBytes[this.#dataFill - padEnd] = chunk[pos]!;
      this.#dataFill++;
      pos++;
    }
    return pos;
  }

  #finishData(): AnyPdu {
    if (this.digests.data) {
      const computed = crc32cFinish(this.#dataCrc);
      const received = readDigest(this.#digestBytes, 0);
      if (computed !== received)
        throw new IscsiDigestError('data', computed, received, BHS_LAYOUTS[this.#kind].name);
    }
    const placed = this.#placement !== undefined;
    this.#placement = undefined;
    return this.#emit(this.#data, placed);
  }

  #emit(data: Uint8Array, placed: boolean): AnyPdu {
    const h = this.#header;
    const pdu = {
      kind: this.#kind,
      immediate: (h[0]! & 0x40) !== 0,
      header: decodeLayout(BHS_LAYOUTS[this.#kind], h),
      ahs: this.#ahsLength === 0 ? [] : decodeAhs(h.subarray(BHS_LENGTH, BHS_LENGTH + this.#ahsLength)),
      dataLength: this.#dataLength,
      data,
      placed,
    } as unknown as AnyPdu;
    this.#pdusRead++;
    this.#state = 'bhs';
    this.#headerFill = 0;
    this.#headerNeed = BHS_LENGTH;
    if (this.#header.length !== BHS_LENGTH) this.#header = new Uint8Array(BHS_LENGTH);
    return pdu;
  }
}

/** Decodes one whole PDU from bytes (a convenience over {@link PduReader} for tests and tools). */
export function decodePdu(
  bytes: Uint8Array,
  options: Omit<PduReaderOptions, 'placeData' | 'maxDataSegmentLength'> & { maxDataSegmentLength?: number },
): AnyPdu {
  const reader = new PduReader({ maxDataSegmentLength: MAX_DATA_SEGMENT_LENGTH, ...options });
  const out: AnyPdu[] = [];
  reader.push(bytes, (p) => out.push(p));
  if (out.length !== 1 || !reader.idle) {
    throw new MalformedDataError({
      what: 'iSCSI PDU',
      offset: 0,
      needed: bytes.length,
      available: bytes.length,
      reason:
        out.length === 0 ? `${bytes.length} bytes do not hold a whole PDU` : 'bytes left over after one PDU',
    });
  }
  return out[0]!;
}
