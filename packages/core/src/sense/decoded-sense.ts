/**
 * The decoded form of SCSI sense data (SPC-6 clause 4.4), common to the fixed and
 * descriptor formats.
 * @module
 */

/** Sense data formats (SPC-6 4.4.1, RESPONSE CODE field). */
export type SenseFormat = 'fixed' | 'descriptor';

/** One sense data descriptor (descriptor format only), decoded where its type is known. */
export interface SenseDescriptor {
  /** DESCRIPTOR TYPE (byte 0). */
  readonly type: number;
  /** T10 name of the type, e.g. `Information`; `Vendor specific` for 0x80..0xff. */
  readonly typeName: string;
  /** The whole descriptor including its two-byte header. */
  readonly bytes: Uint8Array;
  /** Decoded fields for the known types (numbers, bigints, booleans). */
  readonly fields: Readonly<Record<string, number | bigint | boolean>>;
}

/** Sense-key specific information (fixed bytes 15..17 or descriptor type 0x02), when SKSV is set. */
export type SenseKeySpecific =
  | {
      readonly kind: 'field-pointer';
      /** C/D: 1 = the error is in the CDB, 0 = in the parameter data. */
      readonly inCdb: boolean;
      /** BIT POINTER, when BPV is set. */
      readonly bitPointer?: number;
      /** FIELD POINTER: the byte in error. */
      readonly fieldPointer: number;
    }
  | { readonly kind: 'retry-count'; readonly actualRetryCount: number }
  | { readonly kind: 'progress'; readonly progress: number; readonly percent: number }
  | {
      readonly kind: 'segment-pointer';
      readonly sd: boolean;
      readonly bitPointer?: number;
      readonly fieldPointer: number;
    }
  | { readonly kind: 'unit-attention-overflow'; readonly overflow: boolean }
  | { readonly kind: 'raw'; readonly value: number };

/** Decoded sense data. */
export interface DecodedSense {
  /** Fixed (0x70/0x71) or descriptor (0x72/0x73) format. */
  readonly format: SenseFormat;
  /** RESPONSE CODE (0x70..0x73). */
  readonly responseCode: number;
  /** False for deferred errors (0x71/0x73). */
  readonly current: boolean;
  /** SENSE KEY (0..15). */
  readonly senseKey: number;
  /** Name of the sense key, sg3_utils style (`Medium Error`). */
  readonly senseKeyName: string;
  /** ADDITIONAL SENSE CODE. */
  readonly asc: number;
  /** ADDITIONAL SENSE CODE QUALIFIER. */
  readonly ascq: number;
  /** T10 text for (asc, ascq), e.g. `Unrecovered read error`. */
  readonly ascText: string;
  /** INFORMATION field when present and valid (fixed: VALID bit; descriptor: type 0x00 VALID bit). */
  readonly information?: bigint;
  /** COMMAND-SPECIFIC INFORMATION when non-zero or present. */
  readonly commandSpecificInformation?: bigint;
  /** FIELD REPLACEABLE UNIT CODE when non-zero. */
  readonly fieldReplaceableUnit?: number;
  /** Sense-key specific information when SKSV is set. */
  readonly senseKeySpecific?: SenseKeySpecific;
  /** FILEMARK bit (stream commands). */
  readonly filemark: boolean;
  /** EOM bit (end of medium). */
  readonly endOfMedium: boolean;
  /** ILI bit (incorrect length indicator). */
  readonly incorrectLength: boolean;
  /** SDAT OVFL (descriptor format) : descriptors did not fit. */
  readonly overflow: boolean;
  /** Descriptors (descriptor format; empty for fixed). */
  readonly descriptors: readonly SenseDescriptor[];
  /** Bytes that were decoded (ADDITIONAL SENSE LENGTH + header, clipped to what was given). */
  readonly length: number;
}
