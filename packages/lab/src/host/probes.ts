/**
 * The lab's C probes (`packages/lab/probes/*.c`, where every C probe of the project lives: the
 * sg3-compat and iSCSI tests build theirs from there too), compiled on the host before a guest boots:
 * the guest runs the host's userland, so a host binary runs there unchanged, and gcc on the
 * host takes a fraction of a second where gcc under TCG takes many. Built once into the lab
 * cache, keyed by the sources and the compiler, and replaced atomically.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitStatus } from '@sgv4/core';
import { LabError } from '../errors.js';

/** The probes, by name (`<name>.c` in the probes directory). */
export const LAB_PROBES = [
  'sg-transfer-probe',
  'sg-submit-probe',
  'permissions-sweep-probe',
  'sense-capture-probe',
] as const;

/** A probe's name. */
export type LabProbeName = (typeof LAB_PROBES)[number];

/** Where the probe sources live: `packages/lab/probes` (the same from `src/` and `dist/`). */
export function labProbeSourceDir(): string {
  return fileURLToPath(new URL('../../probes/', import.meta.url));
}

/** gcc's arguments for one probe. */
export function probeCompileArguments(source: string, output: string): string[] {
  return ['-O1', '-Wall', '-o', output, source];
}

/** A directory of compiled probes. */
export interface LabProbeBuild {
  /** The directory holding one executable per {@link LAB_PROBES} name. */
  readonly dir: string;
  /** True when this call compiled them; false when the cached build was current. */
  readonly built: boolean;
}

function compilerIdentity(gcc: string): string {
  try {
    return execFileSync(gcc, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  } catch (error) {
    throw new LabError(
      `the lab compiles its C probes with '${gcc}', which did not run: ${(error as Error).message} ` +
        '(install gcc: apt-get install -y --no-install-recommends gcc libc6-dev)',
      ExitStatus.FILE_ERROR,
    );
  }
}

/**
 * Returns the compiled probes in `cacheDir`, compiling them (into a temporary directory
 * renamed into place, so concurrent labs never see a partial build) when the sources or
 * the compiler changed. Stale builds are deleted.
 */
export function ensureLabProbes(options: { cacheDir: string; gcc?: string }): LabProbeBuild {
  const gcc = options.gcc ?? 'gcc';
  const sourceDir = labProbeSourceDir();
  const hash = createHash('sha256');
  hash.update(`${compilerIdentity(gcc)}\n`);
  for (const name of LAB_PROBES) {
    hash.update(`${name}\n`);
    hash.update(readFileSync(join(sourceDir, `${name}.c`)));
  }
  const key = hash.digest('hex').slice(0, 16);
  const dir = join(options.cacheDir, `probes-${key}`);
  if (LAB_PROBES.every((name) => existsSync(join(dir, name)))) return { dir, built: false };
  mkdirSync(options.cacheDir, { recursive: true });
  const temporary = mkdtempSync(join(options.cacheDir, '.probes-'));
  try {
    for (const name of LAB_PROBES) {
      try {
        execFileSync(gcc, probeCompileArguments(join(sourceDir, `${name}.c`), join(temporary, name)), {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
      } catch (error) {
        const stderr = (error as { stderr?: Buffer }).stderr?.toString('utf8').trim() ?? '';
        throw new LabError(`compiling the lab probe ${name}.c failed: ${stderr}`, ExitStatus.OTHER);
      }
    }
    try {
      renameSync(temporary, dir);
    } catch (error) {
      // Another lab finished the same build first: its directory is as good as ours.
      if (!LAB_PROBES.every((name) => existsSync(join(dir, name)))) throw error;
    }
  } finally {
    rmSync(temporary, { recursive: true, force: true });
  }
  for (const name of readdirSync(options.cacheDir)) {
    if (name.startsWith('probes-') && name !== `probes-${key}`) {
      rmSync(join(options.cacheDir, name), { recursive: true, force: true });
    }
  }
  return { dir, built: true };
}
