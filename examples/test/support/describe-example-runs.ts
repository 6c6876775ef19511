/** One vitest test per declared run of an example in the given tier. */
import { expect, it } from 'vitest';
import { exampleRuns, runExample, staleBuild } from './example-runs.js';

export function describeExampleRuns(tier: 'host' | 'lab'): void {
  const runs = exampleRuns().runs.filter((r) => r.tier === tier);
  if (runs.length === 0) it.skip(`no ${tier}-tier example runs`, () => {});
  for (const run of runs) {
    it(`examples/${run.example}:${run.line} ${run.args.join(' ')}`, () => {
      expect(staleBuild(run.example)).toBeUndefined();
      const result = runExample(run);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      if (run.expect) expect(result.stdout).toMatch(run.expect);
      else expect(result.stdout.length).toBeGreaterThan(0);
    });
  }
}
