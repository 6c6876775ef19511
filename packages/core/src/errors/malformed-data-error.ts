/**
 * A parser was given data it cannot decode: too short, truncated, or not the page or
 * format asked for.
 * @module
 */
import { ExitStatus } from './exit-status.js';
import { Sgv4Error, type Sgv4ErrorOptions } from './sgv4-error.js';

/** What went wrong, for {@link MalformedDataError}. */
export interface MalformedDataDetails {
  /** The structure being decoded, e.g. `INQUIRY VPD page 0x83` or `sg_io_v4 header`. */
  readonly what: string;
  /** Byte offset where decoding needed more (or different) data. */
  readonly offset: number;
  /** Bytes needed from `offset` (or the expected value for a wrong-page error). */
  readonly needed: number;
  /** Bytes available from `offset` (or the value found). */
  readonly available: number;
  /** Replaces the default "needs N bytes" wording, e.g. `page code is 0x00, expected 0x83`. */
  readonly reason?: string;
}

/**
 * The response, sense buffer or header is malformed. Exit status MALFORMED (97),
 * as sg3_utils' `SG_LIB_CAT_MALFORMED`. Parsers throw this instead of reading out of range.
 *
 * Message: `INQUIRY VPD page 0x83: needs 4 bytes at offset 8, only 2 available`.
 */
export class MalformedDataError extends Sgv4Error {
  /** The structure being decoded. */
  readonly what: string;
  /** Byte offset of the problem. */
  readonly offset: number;
  /** Bytes needed there (or the expected value). */
  readonly needed: number;
  /** Bytes available there (or the value found). */
  readonly available: number;

  /** See {@link MalformedDataDetails}. */
  constructor(details: MalformedDataDetails, options: Sgv4ErrorOptions = {}) {
    super(
      `${details.what}: ${
        details.reason ??
        `needs ${details.needed} bytes at offset ${details.offset}, only ${Math.max(0, details.available)} available`
      }`,
      ExitStatus.MALFORMED,
      options,
    );
    this.what = details.what;
    this.offset = details.offset;
    this.needed = details.needed;
    this.available = details.available;
  }

  /** Throws unless `bytes` has `needed` bytes from `offset`. */
  static require(what: string, bytes: Uint8Array, offset: number, needed: number): void {
    if (offset + needed > bytes.length) {
      throw new MalformedDataError({ what, offset, needed, available: bytes.length - offset });
    }
  }
}
