/**
 * Running doc-tests inside a vitest test file: one test per sample of the given tier, the
 * TypeScript samples imported as modules (vitest resolves `@sgv4/*` to the sources) and the
 * console transcripts run in-process through the CLI.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkInvocation, sgv4Arguments } from '../../src/cli/cli-invocations.js';
import {
  collectSamples,
  consoleSteps,
  type DocTestTier,
  normalizeOutput,
  writeSampleModules,
} from '../../src/doctest/doc-tests.js';
import { textCapture } from '../../src/io/text-capture.js';

/**
 * Runs `sgv4 <args...>` in-process; resolves to everything it printed (stdout, then stderr).
 * The CLI is imported on first use only: a tier without console samples never loads it.
 */
export async function runSgv4(args: readonly string[]): Promise<{ status: number; output: string }> {
  const { runCli } = await import('@sgv4/cli');
  const out = textCapture();
  const err = textCapture();
  const status = await runCli(args, { stdout: out.stream, stderr: err.stream });
  return { status, output: `${out.text()}${err.text()}` };
}

/** Declares one vitest test per doc-test of `tier` found in the documentation of `repoRoot`. */
export function describeDocTests(repoRoot: string, tier: DocTestTier): void {
  const samples = collectSamples(repoRoot);
  const tests = samples.docTests.filter((t) => t.mode === tier);
  const dir = mkdtempSync(join(tmpdir(), `sgv4-doctests-${tier}-`));
  const modules = writeSampleModules(repoRoot, tests, dir);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe(`doc-tests (${tier} tier)`, () => {
    if (tests.length === 0) it.skip(`no ${tier}-tier samples in the guides`, () => {});
    for (const test of tests) {
      if (test.kind === 'typescript') {
        it(`${test.id} runs`, async () => {
          const path = modules.get(test.id);
          expect(path).toBeDefined();
          await import(pathToFileURL(path as string).href);
        });
      } else {
        it(`${test.id} prints what the transcript shows`, async () => {
          const { rootCommand } = await import('@sgv4/cli');
          for (const step of consoleSteps(test.block, sgv4Arguments)) {
            expect(checkInvocation(rootCommand, step.args)).toBeUndefined();
            const { output } = await runSgv4(step.args);
            expect(normalizeOutput(output), `${test.block.file}:${step.line}`).toBe(step.expected);
          }
        });
      }
    }
  });
}
