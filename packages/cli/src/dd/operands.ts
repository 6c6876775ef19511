/**
 * The `key=value` operands of `sgv4 dd`, with sg_dd's meanings: `bs` is the logical block size
 * (it must match a device's), `bpt` the blocks per transfer (default 128, as sg_dd), and
 * `count`, `skip` and `seek` count blocks of `bs` bytes.
 */
import { parseIntegerArgument } from '../framework/invocation.js';
import { UsageError } from '../framework/usage-error.js';

/** The parsed operands. */
export interface DdOperands {
  /** Input: a device (sg, bsg, block node, emu:...), a file, or `-` for stdin. */
  readonly input: string;
  /** Output: a device, a file, or `-` for stdout. */
  readonly output: string;
  /** Block size in bytes, when given. */
  readonly bs?: number;
  /** Blocks per transfer (default 128). */
  readonly bpt: number;
  /** Blocks to copy, when given (default: to the end of the input). */
  readonly count?: number;
  /** Blocks to skip at the start of the input. */
  readonly skip: number;
  /** Blocks to skip at the start of the output. */
  readonly seek: number;
}

const KEYS = ['if', 'of', 'bs', 'bpt', 'count', 'skip', 'seek'] as const;

/** Parses sg_dd-style operands; a UsageError names the bad one. */
export function parseDdOperands(args: readonly string[]): DdOperands {
  const values = new Map<string, string>();
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const key = eq > 0 ? arg.slice(0, eq) : '';
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new UsageError(`operand '${arg}' is not one of ${KEYS.map((k) => `${k}=`).join(', ')}`);
    }
    if (values.has(key)) throw new UsageError(`operand ${key}= given twice`, 31);
    values.set(key, arg.slice(eq + 1));
  }
  const input = values.get('if');
  const output = values.get('of');
  if (input === undefined || input === '') throw new UsageError('if=SRC is required');
  if (output === undefined || output === '') throw new UsageError('of=DST is required');
  const int = (key: string, min: number, max: number): number | undefined => {
    const raw = values.get(key);
    return raw === undefined ? undefined : parseIntegerArgument(`${key}=`, suffixed(key, raw), { min, max });
  };
  const bs = int('bs', 1, 1 << 24);
  const count = int('count', 0, Number.MAX_SAFE_INTEGER);
  return {
    input,
    output,
    ...(bs !== undefined ? { bs } : {}),
    bpt: int('bpt', 1, 1 << 20) ?? 128,
    ...(count !== undefined ? { count } : {}),
    skip: int('skip', 0, Number.MAX_SAFE_INTEGER) ?? 0,
    seek: int('seek', 0, Number.MAX_SAFE_INTEGER) ?? 0,
  };
}

/** dd-style multiplier suffixes: k (1024), m, g, and kB/MB/GB (powers of 1000). */
function suffixed(key: string, raw: string): string {
  const m = /^(\d+)(k|m|g|kB|MB|GB)$/i.exec(raw.trim());
  if (m === null) return raw;
  const n = Number(m[1]);
  const unit = m[2] ?? '';
  const factor =
    unit === 'kB'
      ? 1e3
      : unit === 'MB'
        ? 1e6
        : unit === 'GB'
          ? 1e9
          : unit.toLowerCase() === 'k'
            ? 1024
            : unit.toLowerCase() === 'm'
              ? 1 << 20
              : 1 << 30;
  const v = n * factor;
  if (!Number.isSafeInteger(v)) throw new UsageError(`${key}=${raw} is too large`);
  return String(v);
}
