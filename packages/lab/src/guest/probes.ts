/**
 * The compiled C probes inside the guest. A run started with `probes: true` (`pnpm
 * test:lab`, `sgv4 lab conformance`) carries the host-compiled probes in its control
 * share and names the directory in `$SGV4_LAB_PROBES`; elsewhere (a plain `sgv4 lab run`)
 * a probe is compiled in the guest on first use, which under TCG takes seconds.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LabProbeName, labProbeSourceDir, probeCompileArguments } from '../host/probes.js';

/** The environment variable naming the directory of host-compiled probes. */
export const LAB_PROBES_ENV = 'SGV4_LAB_PROBES';

let fallbackDir: string | undefined;

/** The path of probe `name`, compiling it here when the run carries no compiled probes. */
export function labProbe(name: LabProbeName): string {
  const dir = process.env[LAB_PROBES_ENV];
  if (dir && existsSync(join(dir, name))) return join(dir, name);
  fallbackDir ??= mkdtempSync(join(tmpdir(), 'sgv4-probes-'));
  const binary = join(fallbackDir, name);
  if (!existsSync(binary)) {
    execFileSync('gcc', probeCompileArguments(join(labProbeSourceDir(), `${name}.c`), binary), {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  }
  return binary;
}
