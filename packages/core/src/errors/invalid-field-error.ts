/**
 * Bad input: a field of a request, header or CDB is out of its allowed range.
 * @module
 */
import { ExitStatus, type ExitStatusCode } from './exit-status.js';

/** Renders a rejected value for a message: strings quoted, bigints with `n`, buffers by length. */
function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return `${value.constructor.name}(${value.length})`;
  if (Array.isArray(value)) return `array(${value.length})`;
  if (typeof value === 'object' && value !== null) return 'object';
  return String(value);
}

/**
 * A caller-supplied field breaks a rule. It extends RangeError (the JS type for
 * "value out of range") rather than {@link Sgv4Error} (JS has single inheritance), and
 * carries `exitStatus` SYNTAX_ERROR (1) like the rest of the family.
 *
 * Message: `<field>: <rule> (got <value>)`, e.g. `timeout: must be an integer in 0..4294967295 (got -1)`.
 */
export class InvalidFieldError extends RangeError {
  /** The field, in the caller's vocabulary (`timeout`, `cdb[1]`, `lba`). */
  readonly field: string;
  /** The rule it breaks, e.g. `must be an integer in 0..255`. */
  readonly rule: string;
  /** The rejected value. */
  readonly value: unknown;
  /** sg3_utils exit status: SYNTAX_ERROR (1). */
  readonly exitStatus: ExitStatusCode = ExitStatus.SYNTAX_ERROR;

  /** See the class description. */
  constructor(field: string, rule: string, value: unknown) {
    super(`${field}: ${rule} (got ${describeValue(value)})`);
    this.name = 'InvalidFieldError';
    this.field = field;
    this.rule = rule;
    this.value = value;
  }
}

/** Throws InvalidFieldError unless `value` is an integer in [min, max]. Returns it typed as number. */
export function requireInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidFieldError(field, `must be an integer in ${min}..${max}`, value);
  }
  return value;
}

/** An optional integer setting: `fallback` when absent, else {@link requireInteger}'s check. */
export function optionalInteger(
  field: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  return value === undefined ? fallback : requireInteger(field, value, min, max);
}

/** Throws InvalidFieldError unless `value` is a bigint in [min, max]. */
export function requireBigInt(field: string, value: unknown, min: bigint, max: bigint): bigint {
  if (typeof value !== 'bigint' || value < min || value > max) {
    throw new InvalidFieldError(field, `must be a bigint in ${min}..${max}`, value);
  }
  return value;
}
