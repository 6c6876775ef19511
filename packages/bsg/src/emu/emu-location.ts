/**
 * `emu:` locations: `emu:[name][?size=64M&lbs=512&latency=100us&queue=64&ua=1]`.
 * @module
 */
import { InvalidFieldError } from '@sgv4/core';

/** What an `emu:` location asks for. */
export interface EmuLocation {
  /** Target name: opens of the same name share one target (several I_T nexuses); empty = private. */
  readonly name: string;
  /** Capacity in bytes (default 64 MiB). */
  readonly sizeBytes: bigint;
  /** Logical block size (512 or 4096, default 512). */
  readonly blockSize: 512 | 4096;
  /** Latency per command in nanoseconds (default 0). */
  readonly latencyNs: number;
  /** Task set size (default 64). */
  readonly queueDepth: number;
  /** A new nexus gets UNIT ATTENTION 29/00 POWER ON on its first command (default false: the disk was already up). */
  readonly powerOnUnitAttention: boolean;
}

const SIZE_UNITS: Readonly<Record<string, bigint>> = {
  '': 1n,
  k: 1n << 10n,
  m: 1n << 20n,
  g: 1n << 30n,
  t: 1n << 40n,
};
const TIME_UNITS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 };

function size(value: string): bigint {
  const m = /^(\d+)([kmgt]?)(i?b)?$/i.exec(value);
  if (m === null)
    throw new InvalidFieldError(
      'emu size',
      'must be a byte count with an optional K, M, G or T suffix (e.g. 64M)',
      value,
    );
  return BigInt(m[1] as string) * (SIZE_UNITS[(m[2] ?? '').toLowerCase()] ?? 1n);
}

function duration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s)$/.exec(value);
  if (m === null)
    throw new InvalidFieldError(
      'emu latency',
      'must be a number with a unit ns, us, ms or s (e.g. 100us)',
      value,
    );
  const ns = Number(m[1]) * (TIME_UNITS[m[2] as string] ?? 1);
  if (!Number.isFinite(ns) || ns > 60e9)
    throw new InvalidFieldError('emu latency', 'must be at most 60 s', value);
  return Math.round(ns);
}

function integer(field: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new InvalidFieldError(field, `must be an integer in ${min}..${max}`, value);
  return n;
}

/** Parses an `emu:` location; InvalidFieldError naming the parameter and its rule. */
export function parseEmuLocation(location: string): EmuLocation {
  const m = /^emu:(?:\/\/)?([A-Za-z0-9._-]*)(?:\?(.*))?$/i.exec(location);
  if (m === null) {
    throw new InvalidFieldError(
      'location',
      'must be emu:[name][?size=64M&lbs=512&latency=100us&queue=64&ua=1]',
      location,
    );
  }
  const params = new URLSearchParams(m[2] ?? '');
  const known = new Set(['size', 'lbs', 'latency', 'queue', 'ua']);
  for (const key of params.keys()) {
    if (!known.has(key))
      throw new InvalidFieldError(`emu ${key}`, `is not a parameter (size, lbs, latency, queue, ua)`, key);
  }
  const lbs = params.get('lbs') ?? '512';
  if (lbs !== '512' && lbs !== '4096') throw new InvalidFieldError('emu lbs', 'must be 512 or 4096', lbs);
  const sizeBytes = size(params.get('size') ?? '64M');
  if (sizeBytes < BigInt(lbs) || sizeBytes % BigInt(lbs) !== 0n) {
    throw new InvalidFieldError(
      'emu size',
      `must be a positive multiple of the block size (${lbs})`,
      params.get('size'),
    );
  }
  return {
    name: m[1] ?? '',
    sizeBytes,
    blockSize: Number(lbs) as 512 | 4096,
    latencyNs: duration(params.get('latency') ?? '0ns'),
    queueDepth: integer('emu queue', params.get('queue') ?? '64', 1, 4096),
    powerOnUnitAttention: (params.get('ua') ?? '0') === '1',
  };
}
