/**
 * `pnpm bench [name...]`: runs every suite (or the named ones) and writes
 * bench/results/<suite>.json for each.
 */
import { fileURLToPath } from 'node:url';
import { runSuite } from './runner.js';
import { suites } from './suites/index.js';

const resultsDir = fileURLToPath(new URL('../results', import.meta.url));
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !suites.some((s) => s.name === name));
if (unknown.length > 0) {
  console.error(
    `bench: no suite named ${unknown.join(', ')} (have: ${suites.map((s) => s.name).join(', ')})`,
  );
  process.exit(1);
}
const selected = wanted.length > 0 ? suites.filter((s) => wanted.includes(s.name)) : suites;
let missed = 0;
for (const suite of selected) {
  const result = await runSuite(suite, resultsDir);
  missed += result.cases.filter((c) => c.goalMet === false).length;
}
console.log(
  `\n${selected.length} suite(s) run; results in bench/results/. ${missed === 0 ? 'All goals met.' : `${missed} goal(s) missed.`}`,
);
