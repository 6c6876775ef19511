/**
 * The example programs of `examples/` and how the tests run them. Each example states, in
 * `// doctest:` lines near its top, the tier that runs it, its arguments and optionally a
 * pattern its stdout must match:
 *
 *     // doctest: lab /dev/sg0 => /^Linux scsi_debug/
 *     // doctest: host 70 00 03 00
 *
 * `host` runs are made by examples.host.test.ts (`pnpm test:host`), `lab` runs by
 * examples.lab.test.ts inside the lab guest (`pnpm test:lab`). Arguments are split at spaces.
 * The tests run the built program (`examples/dist/<name>.js`, made by `pnpm build`), as a user
 * would, and exit status 0 is required.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The examples directory. */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** One declared run of an example. */
export interface ExampleRun {
  /** File name, `inquiry.ts`. */
  readonly example: string;
  /** Line of the `// doctest:` comment. */
  readonly line: number;
  readonly tier: 'host' | 'lab';
  readonly args: readonly string[];
  /** What stdout must match, when given. */
  readonly expect?: RegExp;
}

/** Every example program (`examples/*.ts`). */
export function exampleFiles(): string[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.config.ts'))
    .sort();
}

/** The declared runs of every example, and what is wrong with the declarations. */
export function exampleRuns(): { runs: ExampleRun[]; problems: string[] } {
  const runs: ExampleRun[] = [];
  const problems: string[] = [];
  for (const example of exampleFiles()) {
    const lines = readFileSync(join(EXAMPLES_DIR, example), 'utf8').split('\n');
    let declared = 0;
    lines.forEach((text, index) => {
      const m = /^\/\/ doctest:\s*(\S+)\s*(.*)$/.exec(text);
      if (m === null) return;
      declared++;
      const where = `examples/${example}:${index + 1}`;
      const tier = m[1];
      if (tier !== 'host' && tier !== 'lab') {
        problems.push(`${where}: tier '${tier}' is not host or lab`);
        return;
      }
      const [argText = '', pattern] = (m[2] ?? '').split(/\s+=>\s+/);
      let expect: RegExp | undefined;
      if (pattern !== undefined) {
        const re = /^\/(.*)\/([a-z]*)$/.exec(pattern.trim());
        try {
          if (re === null) throw new Error('write it as /regex/flags');
          expect = new RegExp(re[1] ?? '', re[2]);
        } catch (error) {
          problems.push(`${where}: bad pattern ${pattern}: ${(error as Error).message}`);
          return;
        }
      }
      const args = argText.trim() === '' ? [] : argText.trim().split(/\s+/);
      runs.push({ example, line: index + 1, tier, args, ...(expect ? { expect } : {}) });
    });
    if (declared === 0)
      problems.push(`examples/${example}: no '// doctest: host|lab ...' line, so no test runs it`);
  }
  return { runs, problems };
}

/** The built program of an example. */
export function builtProgram(example: string): string {
  return join(EXAMPLES_DIR, 'dist', example.replace(/\.ts$/, '.js'));
}

/** Why the built program cannot be trusted to be this source (missing or older), or undefined. */
export function staleBuild(example: string): string | undefined {
  let built: number;
  try {
    built = statSync(builtProgram(example)).mtimeMs;
  } catch {
    return `examples/dist/${example.replace(/\.ts$/, '.js')} is missing: run pnpm build`;
  }
  return statSync(join(EXAMPLES_DIR, example)).mtimeMs > built
    ? `examples/${example} changed after its build: run pnpm build`
    : undefined;
}

/** Runs one declared run; resolves to its exit status and output. */
export function runExample(run: ExampleRun): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [builtProgram(run.example), ...run.args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
