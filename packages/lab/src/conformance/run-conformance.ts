/**
 * Running the registry in the guest: plan each area's cases with the model, run them
 * against the real kernel, and put the outcomes side by side.
 * @module
 */
import { execFileSync } from 'node:child_process';
import type { ConformanceArea, ConformanceAreaName, ConformanceDevice } from './conformance-case.js';
import { labConformanceDevice } from './guest-device.js';
import { CONFORMANCE_AREAS } from './registry.js';
import { type ConformanceAreaResult, type ConformanceReport, conformanceReport } from './report.js';

/** Runs one area on `device` (default: the guest's scsi_debug disk). Inside the guest only. */
export async function runConformanceArea(
  area: ConformanceArea,
  device: ConformanceDevice = labConformanceDevice(),
): Promise<ConformanceAreaResult> {
  const started = Date.now();
  const planned = area.plan(device);
  const observed = await area.run(device, planned);
  const cases = planned.map((c, i) => {
    const o = observed[i];
    if (o === undefined) throw new Error(`area ${area.name}: no observation for case ${i} (${c.input})`);
    const predicted = o.predicted ?? c.predicted;
    return {
      area: area.name,
      input: c.input,
      rules: c.rules,
      predicted,
      observed: o.observed,
      agrees: predicted === o.observed,
    };
  });
  return { area: area.name, title: area.title, rules: area.rules, cases, ms: Date.now() - started };
}

/** Runs `areas` (default: all) one after the other and builds the report. Inside the guest only. */
export async function runConformance(
  options: {
    readonly areas?: readonly ConformanceAreaName[];
    readonly onArea?: (result: ConformanceAreaResult) => void;
  } = {},
): Promise<ConformanceReport> {
  const started = Date.now();
  const device = labConformanceDevice();
  const results: ConformanceAreaResult[] = [];
  for (const area of CONFORMANCE_AREAS) {
    if (options.areas && !options.areas.includes(area.name)) continue;
    const result = await runConformanceArea(area, device);
    options.onArea?.(result);
    results.push(result);
  }
  const kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  return conformanceReport(results, { kernel, date: new Date().toISOString(), ms: Date.now() - started });
}
