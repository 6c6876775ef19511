/**
 * `pnpm test:lab`: the vitest `lab` project run inside ONE guest boot. The guest runs the
 * repository's own vitest from the read-only host root, with `packages/lab/vitest.lab.config.ts`
 * (the root config's `lab` project alone: loading every package's config costs about a
 * minute under TCG) loaded by vite's module runner (the default loader writes a bundled
 * config under node_modules, which is read-only there). Output streams back live, and the
 * exit status is vitest's.
 * @module
 */
import { join } from 'node:path';
import { LabConfigError } from './errors.js';
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
  /** Hard timeout in ms (default 1800000, or `SGV4_LAB_TIMEOUT_S` seconds). */
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
      // Without --config vitest would load the root config, which loads every package's
      // config and runs the lab project with a fresh worker per file (isolate: true).
      '--config',
      join(options.repoRoot, 'packages', 'lab', 'vitest.lab.config.ts'),
      '--project',
      'lab',
      '--configLoader',
      'runner',
      ...(options.vitestArgs ?? []),
    ],
    cwd: options.repoRoot,
    env: options.color ? { FORCE_COLOR: '1' } : { NO_COLOR: '1' },
    // The C probes the lab tests run, compiled on the host before the boot.
    probes: true,
    timeoutMs: options.timeoutMs ?? 1_800_000,
  });
}

/**
 * Guest options for the test run from the environment: `SGV4_LAB_SCSI_DEBUG` (scsi_debug
 * parameters, `'name=value ...'`, merged over the defaults), `SGV4_LAB_ACCEL` and
 * `SGV4_LAB_TIMEOUT_S` (hard timeout in seconds).
 */
export function labTestOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): LabGuestOptions & { timeoutMs?: number } {
  const accel = env.SGV4_LAB_ACCEL;
  const timeout = env.SGV4_LAB_TIMEOUT_S;
  let timeoutMs: number | undefined;
  if (timeout !== undefined) {
    const seconds = Number(timeout);
    if (!Number.isSafeInteger(seconds) || seconds < 1) {
      throw new LabConfigError('SGV4_LAB_TIMEOUT_S', 'a positive integer number of seconds', timeout);
    }
    timeoutMs = seconds * 1000;
  }
  // An unknown accelerator is refused like a bad timeout, not silently replaced by the default.
  if (accel !== undefined && accel !== '' && accel !== 'tcg' && accel !== 'kvm' && accel !== 'auto') {
    throw new LabConfigError('SGV4_LAB_ACCEL', "one of 'auto', 'kvm' or 'tcg'", accel);
  }
  return {
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(env.SGV4_LAB_SCSI_DEBUG ? { scsiDebug: parseScsiDebugParams(env.SGV4_LAB_SCSI_DEBUG) } : {}),
    ...(accel === 'tcg' || accel === 'kvm' || accel === 'auto' ? { accel } : {}),
  };
}
