/**
 * The host side of `sgv4 lab conformance`: boots ONE guest (probes compiled on the host
 * first), runs every area's cases there and reads the report back from the results share.
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { LabGuestError } from '../errors.js';
import type { LabGuestOptions } from '../guest-config.js';
import type { LabProgress } from '../progress.js';
import { GUEST_RESULTS_DIR } from '../run/command-script.js';
import { type LabRunResult, runInLab } from '../run/lab-run.js';
import type { ConformanceAreaName } from './conformance-case.js';
import type { ConformanceReport } from './report.js';

/** Options of {@link runConformanceInLab}. */
export interface LabConformanceOptions extends LabGuestOptions {
  /** Only these areas (default: all). */
  readonly areas?: readonly ConformanceAreaName[];
  /** Progress display. */
  readonly progress?: LabProgress;
  /** Where the guest's per-area progress lines go (default: nowhere). */
  readonly stderr?: Writable | null;
  /** Hard timeout in ms (default 600000). */
  readonly timeoutMs?: number;
}

/** The report and the lab run it came from. */
export interface LabConformanceResult {
  /** The report. */
  readonly report: ConformanceReport;
  /** The run (boot and command times, accelerator). */
  readonly run: LabRunResult;
}

/** Runs the conformance registry in a fresh guest and returns its report. */
export async function runConformanceInLab(
  options: LabConformanceOptions = {},
): Promise<LabConformanceResult> {
  const resultsDir = mkdtempSync(join(tmpdir(), 'sgv4-conformance-'));
  try {
    const guestMain = fileURLToPath(new URL('./guest-main.js', import.meta.url));
    const args = ['--out', `${GUEST_RESULTS_DIR}/conformance.json`];
    if (options.areas) args.push('--areas', options.areas.join(','));
    const run = await runInLab({
      ...options,
      command: [process.execPath, guestMain, ...args],
      cwd: '/',
      resultsDir,
      probes: true,
      stdout: null,
      stderr: options.stderr ?? null,
      timeoutMs: options.timeoutMs ?? 600_000,
    });
    let text: string;
    try {
      text = readFileSync(join(resultsDir, 'conformance.json'), 'utf8');
    } catch {
      throw new LabGuestError(
        `the conformance run wrote no report (guest command exit status ${run.status}): ${run.stderr.toString('utf8').trim().split('\n').slice(-3).join(' / ')}`,
        undefined,
      );
    }
    return { report: JSON.parse(text) as ConformanceReport, run };
  } finally {
    rmSync(resultsDir, { recursive: true, force: true });
  }
}
