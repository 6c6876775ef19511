/**
 * Parsed arguments of one command, with typed accessors that reject bad values
 * with a {@link UsageError} naming the option and the rule.
 */
import { UsageError } from './usage-error.js';

/** A parsed option value as node:util parseArgs returns it. */
export type RawValue = string | boolean | (string | boolean)[] | undefined;

/** What the dispatcher hands to a command's `run`. */
export class Invocation {
  /** The command path, e.g. `['lab', 'run']`. */
  readonly path: readonly string[];
  /** Positional arguments, in order. */
  readonly positionals: readonly string[];
  /** Arguments after a literal `--`, untouched. */
  readonly passthrough: readonly string[];
  /** `--json` was given: print one JSON document instead of text. */
  readonly json: boolean;
  readonly #values: Readonly<Record<string, RawValue>>;

  /** Built by the dispatcher from node:util parseArgs output. */
  constructor(
    path: readonly string[],
    values: Readonly<Record<string, RawValue>>,
    positionals: readonly string[],
    passthrough: readonly string[],
  ) {
    this.path = path;
    this.#values = values;
    this.positionals = positionals;
    this.passthrough = passthrough;
    this.json = values.json === true;
  }

  /** True when the boolean option was given. */
  flag(name: string): boolean {
    return this.#values[name] === true;
  }

  /** The string option's value, or undefined when absent. */
  string(name: string): string | undefined {
    const v = this.#values[name];
    return typeof v === 'string' ? v : undefined;
  }

  /** Every value of a repeatable string option. */
  strings(name: string): string[] {
    const v = this.#values[name];
    if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
    return typeof v === 'string' ? [v] : [];
  }

  /** The string option's value; a {@link UsageError} when absent. */
  requireString(name: string): string {
    const v = this.string(name);
    if (v === undefined) throw new UsageError(`--${name} is required`);
    return v;
  }

  /**
   * An integer option (decimal, or hex with 0x), checked against [min, max];
   * `fallback` when absent.
   */
  integer(name: string, range: { min: number; max: number }, fallback?: number): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    return parseIntegerArgument(`--${name}`, raw, range);
  }

  /** One of a fixed set of words; `fallback` when absent. */
  choice<T extends string>(name: string, choices: readonly T[], fallback?: T): T | undefined {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!(choices as readonly string[]).includes(raw)) {
      throw new UsageError(`--${name} must be one of ${choices.join(', ')} (got '${raw}')`);
    }
    return raw as T;
  }
}

/**
 * Parses an integer command-line value: decimal, or hexadecimal with a `0x`
 * prefix, within [min, max]. `what` names the argument in the error.
 */
export function parseIntegerArgument(what: string, raw: string, range: { min: number; max: number }): number {
  const text = raw.trim();
  const value = /^0x[0-9a-f]+$/i.test(text)
    ? Number.parseInt(text.slice(2), 16)
    : /^-?\d+$/.test(text)
      ? Number.parseInt(text, 10)
      : Number.NaN;
  if (!Number.isSafeInteger(value)) {
    throw new UsageError(`${what} must be an integer (decimal or 0x-hex), got '${raw}'`);
  }
  if (value < range.min || value > range.max) {
    throw new UsageError(`${what} must be in ${range.min}..${range.max}, got ${value}`);
  }
  return value;
}
