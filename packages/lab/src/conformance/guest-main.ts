#!/usr/bin/env node
/**
 * The guest side of `sgv4 lab conformance`: runs the registry against the guest's kernel
 * and writes the report as JSON (`--out FILE`, else stdout); one progress line per area
 * on stderr. Run by the host in a lab guest; exits 0 whenever the report was written.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { CONFORMANCE_AREA_NAMES, type ConformanceAreaName } from './conformance-case.js';
import { runConformance } from './run-conformance.js';

function parseArguments(argv: readonly string[]): { out?: string; areas?: ConformanceAreaName[] } {
  const result: { out?: string; areas?: ConformanceAreaName[] } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out') result.out = argv[++i];
    else if (arg === '--areas') {
      const names = (argv[++i] ?? '').split(',').filter((n) => n.length > 0);
      for (const n of names) {
        if (!(CONFORMANCE_AREA_NAMES as readonly string[]).includes(n))
          throw new Error(`unknown area '${n}'`);
      }
      result.areas = names as ConformanceAreaName[];
    } else throw new Error(`unknown argument '${arg}'`);
  }
  return result;
}

const options = parseArguments(process.argv.slice(2));
const report = await runConformance({
  ...(options.areas ? { areas: options.areas } : {}),
  onArea: (r) => {
    const agreeing = r.cases.filter((c) => c.agrees).length;
    process.stderr.write(
      `conformance: ${r.area}: ${agreeing}/${r.cases.length} agree (${(r.ms / 1000).toFixed(1)} s)\n`,
    );
  },
});
const json = `${JSON.stringify(report)}\n`;
if (options.out) writeFileSync(options.out, json);
else process.stdout.write(json);
