/**
 * The guides' code samples (README.md and docs/guides/*.md): every rule of the doc-test
 * convention holds, every TypeScript sample type-checks against the packages' sources, every
 * `sgv4` command line names a real command with real options, and the unit-tier samples run.
 * The host- and lab-tier samples run in doc-tests.host.test.ts and doc-tests.lab.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rootCommand } from '@sgv4/cli';
import { describe, expect, it } from 'vitest';
import { checkInvocation, sgv4Arguments } from '../src/cli/cli-invocations.js';
import { collectSamples, writeSampleModules } from '../src/doctest/doc-tests.js';
import { typeCheckSamples } from '../src/doctest/type-check.js';
import { describeDocTests } from './support/run-doc-tests.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const samples = collectSamples(repoRoot);

describe('documentation samples', () => {
  it('follow the doc-test convention (TypeScript only, known doctest= values)', () => {
    expect(samples.problems).toEqual([]);
  });

  it('every TypeScript sample type-checks against the workspace sources', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgv4-doctests-typecheck-'));
    try {
      const modules = writeSampleModules(repoRoot, samples.docTests, dir);
      expect(modules.size).toBe(samples.docTests.filter((t) => t.kind === 'typescript').length);
      expect(typeCheckSamples(repoRoot, samples.docTests, modules)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('every sgv4 command line in a shell block is one the CLI accepts', () => {
    const sgv4Lines = samples.invocations.flatMap((inv) => {
      const args = sgv4Arguments(inv.words);
      return args === undefined ? [] : [{ id: inv.id, args }];
    });
    expect(sgv4Lines.length).toBeGreaterThan(0);
    const wrong = sgv4Lines.flatMap(({ id, args }) => {
      const problem = checkInvocation(rootCommand, args);
      return problem === undefined ? [] : [`${id}: ${problem}`];
    });
    expect(wrong).toEqual([]);
  });
});

describeDocTests(repoRoot, 'unit');
