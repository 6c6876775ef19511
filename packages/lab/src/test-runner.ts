#!/usr/bin/env node
/**
 * Entry point of `pnpm test:lab` (`node packages/lab/dist/test-runner.js [vitest args...]`):
 * boots one guest, runs the vitest `lab` project in it and exits with vitest's status.
 * Prints the boot-to-command and total times at the end.
 * @module
 */
import { fileURLToPath } from 'node:url';
import { LabError } from './errors.js';
import { labTestOptionsFromEnv, runLabTests } from './lab-test-run.js';
import { LabProgress } from './progress.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

async function main(): Promise<number> {
  const progress = new LabProgress(process.stderr);
  try {
    const result = await runLabTests({
      ...labTestOptionsFromEnv(),
      repoRoot,
      vitestArgs: process.argv.slice(2),
      progress,
      color: process.stdout.isTTY === true,
    });
    const seconds = (ms: number) => (ms / 1000).toFixed(1);
    process.stderr.write(
      `lab: boot-to-command ${seconds(result.bootMs)} s, vitest ${seconds(result.commandMs)} s, ` +
        `total ${seconds(result.totalMs)} s (${result.accel.toUpperCase()}), exit status ${result.status}\n`,
    );
    return result.status;
  } catch (error) {
    process.stderr.write(`lab: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof LabError ? error.exitStatus : 1;
  }
}

process.exitCode = await main();
