/**
 * The conformance registry without a guest: every area plans its cases with the model
 * alone, so the coverage the lab report will show (each rule the lab can reach, with a
 * case it decides and a case it passes) is checked here, on any machine.
 */
import {
  CONFORMANCE_AREA_NAMES,
  CONFORMANCE_AREAS,
  type ConformanceAreaResult,
  conformanceCoverageGaps,
  conformanceDisagreements,
  conformanceReport,
  conformanceRows,
  expectedLabDevice,
  formatConformanceTable,
} from '@sgv4/lab';
import { describe, expect, it } from 'vitest';

/** The planned cases of every area, as if every prediction had come true. */
function plannedAsAgreed(): ConformanceAreaResult[] {
  const device = expectedLabDevice();
  return CONFORMANCE_AREAS.map((area) => ({
    area: area.name,
    title: area.title,
    rules: area.rules,
    cases: area.plan(device).map((c) => ({
      area: area.name,
      input: c.input,
      rules: c.rules,
      predicted: c.predicted,
      observed: c.predicted,
      agrees: true,
    })),
    ms: 0,
  }));
}

describe('conformance registry (planned with the model alone)', () => {
  const areas = plannedAsAgreed();

  it('has every area once, in report order', () => {
    expect(CONFORMANCE_AREAS.map((a) => a.name)).toEqual([...CONFORMANCE_AREA_NAMES]);
  });

  it('gives every rule the lab can reach a firing and a non-firing case', () => {
    const rows = conformanceRows(areas);
    expect(conformanceCoverageGaps(rows)).toEqual([]);
    const inLab = rows.filter((r) => r.notInLab === undefined);
    expect(inLab.length).toBeGreaterThan(60);
    for (const r of rows) expect(r.kernelFunction, r.rule).toMatch(/\(|SPC-5/);
  });

  it('says why a rule has no lab case', () => {
    const missing = conformanceRows(areas).filter((r) => r.notInLab !== undefined);
    expect(missing.map((r) => r.rule)).toEqual(
      expect.arrayContaining(['atapi-dma-drain', 'bio-virt-boundary-gap', 'copy-virt-boundary-gap']),
    );
    for (const r of missing) expect(r.cases).toBe(0);
  });

  it('plans the same cases every time (seeded randomness, no device access)', () => {
    const again = plannedAsAgreed();
    expect(again.map((a) => a.cases.map((c) => [c.input, c.predicted]))).toEqual(
      areas.map((a) => a.cases.map((c) => [c.input, c.predicted])),
    );
    expect(areas.reduce((n, a) => n + a.cases.length, 0)).toBeGreaterThan(900);
  });

  it('reports totals, disagreements and one table', () => {
    const [first, ...rest] = areas;
    if (first === undefined) throw new Error('no areas');
    const wrong = { ...first.cases[0]!, observed: 'EPERM', agrees: false };
    const withOne = [{ ...first, cases: [wrong, ...first.cases.slice(1)] }, ...rest];
    const report = conformanceReport(withOne, { kernel: '6.1.0-test', date: '2025-01-01T00:00:00Z', ms: 1 });
    expect(report.totals.cases - report.totals.agreeing).toBe(1);
    expect(conformanceDisagreements(report)).toEqual([wrong]);
    const table = formatConformanceTable(report);
    expect(table[0]).toMatch(/^area\s+rule\s+kernel function\s+cases\s+fire\/pass\s+agreeing$/);
    expect(table).toHaveLength(report.rows.length + 1);
    expect(table.some((l) => /not in lab: no ATAPI device/.test(l))).toBe(true);
  });
});
