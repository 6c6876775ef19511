/**
 * The examples follow the convention: each declares at least one run (`// doctest: host|lab`),
 * and each is included in or linked from a guide or the README, where readers find it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLES_DIR, exampleFiles, exampleRuns } from './support/example-runs.js';

const repoRoot = join(EXAMPLES_DIR, '..');
const guides = [
  join(repoRoot, 'README.md'),
  ...readdirSync(join(repoRoot, 'docs', 'guides'))
    .filter((n) => n.endsWith('.md'))
    .map((n) => join(repoRoot, 'docs', 'guides', n)),
].map((path) => readFileSync(path, 'utf8'));

describe('examples', () => {
  it('each declares how the tests run it', () => {
    const { runs, problems } = exampleRuns();
    expect(problems).toEqual([]);
    expect(new Set(runs.map((r) => r.example))).toEqual(new Set(exampleFiles()));
  });

  it('each is included in or linked from the documentation', () => {
    const unreferenced = exampleFiles().filter(
      (name) => !guides.some((text) => text.includes(`examples/${name}`)),
    );
    expect(unreferenced).toEqual([]);
  });
});
