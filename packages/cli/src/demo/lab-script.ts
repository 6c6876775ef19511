/**
 * Runs a shell script in a lab guest for a tour step, with the lab's progress
 * display on stderr. When the host lacks the lab's packages the step prints why
 * and carries on, so the rest of the tour still runs.
 */
import { LabProgress, LabSetupError, runInLab } from '@sgv4/lab';
import type { CommandIO } from '../framework/command.js';
import { printLine } from '../framework/output.js';
import type { TourContext } from './tour-step.js';

/** What a guest run returned (exit status, captured stdout/stderr, accelerator, config). */
export type LabScriptResult = Awaited<ReturnType<typeof runInLab>>;

/**
 * Boots a guest, runs `/bin/sh -c script` in it and returns the run; `undefined`
 * (after printing `<skipLabel>: <reason>`) when the lab cannot be set up here, or when the tour
 * runs without `--lab` (no guest is booted then).
 */
export async function runTourScriptInLab(
  io: CommandIO,
  script: string,
  skipLabel: string,
  context: TourContext,
): Promise<LabScriptResult | undefined> {
  if (!context.lab) {
    printLine(io, `${skipLabel}: it boots a Linux guest (QEMU); run 'sgv4 demo --lab' for it.`);
    return undefined;
  }
  try {
    return await runInLab({
      command: ['/bin/sh', '-c', script],
      stdout: null,
      stderr: null,
      timeoutMs: 300_000,
      progress: new LabProgress(process.stderr),
    });
  } catch (error) {
    if (error instanceof LabSetupError) {
      printLine(io, `${skipLabel}: ${error.message}`);
      return undefined;
    }
    throw error;
  }
}
