/**
 * Running the C probes in the guest: a script on stdin, one JSON line per operation, as
 * root or as `nobody` without capabilities.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, statSync } from 'node:fs';
import { openLabDeviceModes } from '../guest/run-unprivileged.js';
import { NOBODY_ID } from '../run/command-script.js';

/** One JSON line of a probe. */
export type ProbeLine = Readonly<Record<string, unknown>> & {
  readonly op: string;
  readonly ret: number;
  readonly errno: string | null;
};

/** `setpriv` arguments that run a program as uid/gid 65534 with no capabilities. */
function unprivileged(binary: string, args: readonly string[]): [string, string[]] {
  const id = String(NOBODY_ID);
  return [
    'setpriv',
    [
      `--reuid=${id}`,
      `--regid=${id}`,
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--',
      binary,
      ...args,
    ],
  ];
}

/** Runs `binary args` with `lines` on stdin; returns one parsed JSON line per script line. */
export function runProbeScript(
  binary: string,
  args: readonly string[],
  lines: readonly string[],
  options: { readonly unprivileged?: boolean } = {},
): ProbeLine[] {
  const [file, argv] = options.unprivileged ? unprivileged(binary, args) : [binary, [...args]];
  const run = spawnSync(file, argv, { input: `${lines.join('\n')}\n`, encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) {
    throw new Error(`${binary} exited with ${run.status ?? run.signal}: ${run.stderr}`);
  }
  const out = run.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ProbeLine);
  if (out.length !== lines.length) {
    throw new Error(`${binary} answered ${out.length} of ${lines.length} operations: ${run.stderr}`);
  }
  return out;
}

/**
 * Runs permissions-sweep-probe as `nobody` and returns its records as probe lines (sg
 * opcodes, then bsg opcodes), after checking from its first line that it really ran as
 * uid 65534 with no capabilities. EPERM is named; any other errno is `errno N`.
 */
export function runSweepProbe(binary: string, args: readonly string[]): ProbeLine[] {
  const [file, argv] = unprivileged(binary, args);
  const run = spawnSync(file, argv, { encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) throw new Error(`${binary} exited with ${run.status ?? run.signal}: ${run.stderr}`);
  const [identity, ...records] = run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  if (identity?.uid !== NOBODY_ID || identity.capEff !== '0000000000000000') {
    throw new Error(`the sweep probe did not run unprivileged: ${JSON.stringify(identity)}`);
  }
  return records.map((r) => {
    const errno = Number(r.errno);
    return {
      ...r,
      op: 'sweep',
      ret: errno === 0 ? 0 : -1,
      errno: errno === 0 ? null : errno === 1 ? 'EPERM' : `errno ${errno}`,
    };
  });
}

/** Runs `binary args` and returns its stdout (for probes that print one free-form line). */
export function runProbeOnce(binary: string, args: readonly string[]): string {
  const run = spawnSync(binary, [...args], { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`${binary} exited with ${run.status ?? run.signal}: ${run.stderr}`);
  return run.stdout;
}

/**
 * Makes the sg and bsg nodes and `extra` (block devices) 0666 so `nobody` reaches the
 * drivers' own checks; returns a function that restores the modes found.
 */
export function openDeviceModesFor(extra: readonly string[]): () => void {
  const saved = extra.map((path) => [path, statSync(path).mode & 0o7777] as const);
  openLabDeviceModes();
  for (const path of extra) chmodSync(path, 0o666);
  return () => {
    for (const [path, mode] of saved) chmodSync(path, mode);
  };
}

/** The model's and the kernel's outcome as the same words: `ok`, or the errno name. */
export function outcomeOf(line: ProbeLine): string {
  return line.ret < 0 ? (line.errno ?? 'EOTHER') : 'ok';
}
