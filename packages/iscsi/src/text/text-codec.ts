/**
 * Text data of Login and Text PDUs (RFC 7143 §6.1): `key=value` pairs, each followed by a NUL
 * byte, UTF-8 encoded. Keys are at most 63 bytes of letters, digits and `.-+@_`; a long set of
 * pairs may span several PDUs with the C (continue) bit, so pairs are decoded only once the
 * whole text is gathered (see {@link TextAccumulator}).
 * @module
 */
import { InvalidFieldError } from '@sgv4/core';
import { IscsiProtocolError } from '../errors.js';

/** One `key=value` pair, in the order sent. */
export type TextPair = readonly [key: string, value: string];

const KEY_PATTERN = /^[A-Za-z0-9.\-+@_]{1,63}$/;

/** True for a valid key name (RFC 7143 §6.1: standard-label or key-name, at most 63 bytes). */
export function isValidKeyName(key: string): boolean {
  return KEY_PATTERN.test(key);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes pairs as NUL-terminated `key=value` strings. InvalidFieldError for an invalid key or a NUL in a value. */
export function encodeText(pairs: readonly TextPair[]): Uint8Array {
  const parts: string[] = [];
  for (const [key, value] of pairs) {
    if (!isValidKeyName(key)) {
      throw new InvalidFieldError(
        'text key',
        'must be 1..63 characters of letters, digits and .-+@_ (RFC 7143 §6.1)',
        key,
      );
    }
    if (value.includes('\0'))
      throw new InvalidFieldError(`text value of ${key}`, 'must not contain NUL', value);
    parts.push(`${key}=${value}\0`);
  }
  return encoder.encode(parts.join(''));
}

/**
 * Decodes gathered text data into pairs. IscsiProtocolError for invalid UTF-8, a pair without
 * `=`, an invalid key name, or text that does not end with NUL (§6.1: every pair, the last
 * included, is NUL-terminated). Empty text gives no pairs. Padding NULs after the last pair
 * are tolerated (some targets count them in DataSegmentLength).
 */
export function decodeText(data: Uint8Array, what = 'text data'): TextPair[] {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0 && end > 1 && data[end - 2] === 0) end--;
  if (end === 0) return [];
  if (data[end - 1] !== 0) {
    throw new IscsiProtocolError(what, 'the last key=value pair is not NUL-terminated (RFC 7143 §6.1)');
  }
  let text: string;
  try {
    text = decoder.decode(data.subarray(0, end - 1));
  } catch (cause) {
    throw new IscsiProtocolError(what, 'is not valid UTF-8 (RFC 7143 §6.1)', { cause });
  }
  const pairs: TextPair[] = [];
  if (text === '') return pairs;
  for (const item of text.split('\0')) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    if (eq < 0 || !isValidKeyName(key)) {
      throw new IscsiProtocolError(
        `${what}: ${JSON.stringify(item.slice(0, 80))}`,
        'is not a key=value pair (RFC 7143 §6.1)',
      );
    }
    pairs.push([key, item.slice(eq + 1)]);
  }
  return pairs;
}

/** Splits encoded text into data segments of at most `max` bytes (the peer's MaxRecvDataSegmentLength). */
export function splitText(text: Uint8Array, max: number): Uint8Array[] {
  if (text.length === 0) return [text];
  const out: Uint8Array[] = [];
  for (let at = 0; at < text.length; at += max) out.push(text.subarray(at, at + max));
  return out;
}

/**
 * Gathers the data segments of a multi-PDU text (C bit set on all but the last PDU, RFC 7143
 * §11.10.2) up to a bound, so a peer cannot make us buffer without limit.
 */
export class TextAccumulator {
  readonly #parts: Uint8Array[] = [];
  #length = 0;
  readonly #limit: number;

  /** `limit` bounds the total gathered bytes (default 1 MiB). */
  constructor(limit = 1 << 20) {
    this.#limit = limit;
  }

  /** Adds a segment; IscsiProtocolError beyond the limit. */
  add(segment: Uint8Array, what: string): void {
    this.#length += segment.length;
    if (this.#length > this.#limit) {
      throw new IscsiProtocolError(what, `text spanning several PDUs exceeds ${this.#limit} bytes`);
    }
    if (segment.length > 0) this.#parts.push(segment.slice());
  }

  /** True when nothing was gathered. */
  get empty(): boolean {
    return this.#length === 0;
  }

  /** The gathered bytes, and resets. */
  take(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const p of this.#parts) {
      out.set(p, at);
      at += p.length;
    }
    this.#parts.length = 0;
    this.#length = 0;
    return out;
  }
}
