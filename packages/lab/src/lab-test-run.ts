/**
 * `pnpm test:lab`: the vitest `lab` project run inside ONE guest boot. The guest runs the
 * repository's own vitest from the read-only host root with the config loaded by vite's
 * module runner (the default loader writes a bundled config next to node_modules, which
 * is read-only there); output streams back live, and the exit status is vitest's.
 * @module
 */
import { join } from 'node:path';
import type { LabGuestOptions } from './guest-config.js';
import type { LabProgress } from './progress.js';
import { type LabRunResult, runInLab } from './run/lab-run.js';
import { parseScsiDebugParams } from './scsi-debug-params.js';

/** Options of {@link runLabTests}. */
export interface LabTestRunOptions extends LabGuestOptions {
  /** The repository root (holds vitest.config.ts and node_modules). */
  readonly repoRoot: string;
  /** Extra vitest arguments: file filters, `-t name`, `--reporter ...`. */
  readonly vitestArgs?: readonly string[];
  /** Hard timeout in ms (default 900000). */
  readonly timeoutMs?: number;
  /** Progress display. */
  readonly progress?: LabProgress;
  /** Ask vitest for colours (the guest's output is a file, so vitest cannot tell). */
  readonly color?: boolean;
}

/** Runs the `lab` vitest project in a guest; resolves to the run (its `status` is vitest's). */
export function runLabTests(options: LabTestRunOptions): Promise<LabRunResult> {
  const vitest = join(options.repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
  return runInLab({
    ...options,
    command: [
      process.execPath,
      vitest,
      'run',
      '--project',
      'lab',
      '--configLoader',
      'runner',
      ...(options.vitestArgs ?? []),
    ],
    cwd: options.repoRoot,
    env: options.color ? { FORCE_COLOR: '1' } : { NO_COLOR: '1' },
    timeoutMs: options.timeoutMs ?? 900_000,
  });
}

/**
 * Guest options for the test run from the environment: `SGV4_LAB_SCSI_DEBUG` (scsi_debug
 * parameters, `'name=value ...'`, merged over the defaults) and `SGV4_LAB_ACCEL`.
 */
export function labTestOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): LabGuestOptions {
  const accel = env.SGV4_LAB_ACCEL;
  return {
    ...(env.SGV4_LAB_SCSI_DEBUG ? { scsiDebug: parseScsiDebugParams(env.SGV4_LAB_SCSI_DEBUG) } : {}),
    ...(accel === 'tcg' || accel === 'kvm' || accel === 'auto' ? { accel } : {}),
  };
}
