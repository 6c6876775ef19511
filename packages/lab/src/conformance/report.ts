/**
 * The conformance report: per rule, how many cases ran, how many the rule decided
 * ("firing") or was checked and passed ("not firing"), and how many the model got right;
 * the one table `sgv4 lab conformance` prints.
 * @module
 */
import type { ConformanceAreaName, ConformanceCaseResult, ConformanceRule } from './conformance-case.js';

/** One area's run. */
export interface ConformanceAreaResult {
  /** The area. */
  readonly area: ConformanceAreaName;
  /** What it covers. */
  readonly title: string;
  /** Its rules. */
  readonly rules: readonly ConformanceRule[];
  /** Every case, with the model's and the kernel's outcome. */
  readonly cases: readonly ConformanceCaseResult[];
  /** Wall time of the area in the guest, in ms. */
  readonly ms: number;
}

/** One row of the table. */
export interface ConformanceRuleRow {
  /** The area. */
  readonly area: ConformanceAreaName;
  /** The rule's id. */
  readonly rule: string;
  /** `function (file)` in Linux 6.1. */
  readonly kernelFunction: string;
  /** `decision` or `value`. */
  readonly kind: 'decision' | 'value';
  /** Cases that count for the rule. */
  readonly cases: number;
  /** Of those, the cases the rule decided. */
  readonly firing: number;
  /** Of those, the cases where the kernel checked the rule and went on. */
  readonly notFiring: number;
  /** Of those, the cases where the model's outcome was the kernel's. */
  readonly agreeing: number;
  /** Why the lab has no case for the rule. */
  readonly notInLab?: string;
}

/** The whole run. */
export interface ConformanceReport {
  /** The guest kernel (`uname -r`). */
  readonly kernel: string;
  /** When it ran (ISO 8601). */
  readonly date: string;
  /** Every area. */
  readonly areas: readonly ConformanceAreaResult[];
  /** The table rows, area by area in rule order. */
  readonly rows: readonly ConformanceRuleRow[];
  /** Totals. */
  readonly totals: {
    readonly cases: number;
    readonly agreeing: number;
    readonly rules: number;
    readonly rulesInLab: number;
  };
  /** Wall time of all areas in the guest, in ms. */
  readonly ms: number;
}

/** The rows of the areas' rules, counting each case for every rule it credits. */
export function conformanceRows(areas: readonly ConformanceAreaResult[]): ConformanceRuleRow[] {
  const rows: ConformanceRuleRow[] = [];
  for (const area of areas) {
    for (const rule of area.rules) {
      let cases = 0;
      let firing = 0;
      let agreeing = 0;
      for (const c of area.cases) {
        const credit = c.rules.find((r) => r.id === rule.id);
        if (credit === undefined) continue;
        cases++;
        if (credit.fires) firing++;
        if (c.agrees) agreeing++;
      }
      rows.push({
        area: area.area,
        rule: rule.id,
        kernelFunction: rule.kernelFunction,
        kind: rule.kind ?? 'decision',
        cases,
        firing,
        notFiring: cases - firing,
        agreeing,
        ...(rule.notInLab === undefined ? {} : { notInLab: rule.notInLab }),
      });
    }
  }
  return rows;
}

/** Builds the report from the areas' results. */
export function conformanceReport(
  areas: readonly ConformanceAreaResult[],
  meta: { kernel: string; date: string; ms: number },
): ConformanceReport {
  const rows = conformanceRows(areas);
  const cases = areas.flatMap((a) => a.cases);
  return {
    ...meta,
    areas,
    rows,
    totals: {
      cases: cases.length,
      agreeing: cases.filter((c) => c.agrees).length,
      rules: rows.length,
      rulesInLab: rows.filter((r) => r.notInLab === undefined).length,
    },
  };
}

/** Every case where the model and the kernel differ. */
export function conformanceDisagreements(report: ConformanceReport): ConformanceCaseResult[] {
  return report.areas.flatMap((a) => a.cases.filter((c) => !c.agrees));
}

/**
 * What the report lacks: a lab-reachable rule without cases, or a decision rule without
 * a firing or without a non-firing case. Empty when every rule is covered both ways.
 */
export function conformanceCoverageGaps(rows: readonly ConformanceRuleRow[]): string[] {
  const gaps: string[] = [];
  for (const r of rows) {
    if (r.notInLab !== undefined) continue;
    const name = `${r.area}/${r.rule}`;
    if (r.cases === 0) gaps.push(`${name}: no case`);
    else if (r.kind === 'decision' && r.firing === 0) gaps.push(`${name}: no firing case`);
    else if (r.kind === 'decision' && r.notFiring === 0) gaps.push(`${name}: no non-firing case`);
  }
  return gaps;
}

/** The table as aligned text lines: area, rule, kernel function, cases, firing/not firing, agreeing. */
export function formatConformanceTable(report: ConformanceReport): string[] {
  const header = ['area', 'rule', 'kernel function', 'cases', 'fire/pass', 'agreeing'];
  const body = report.rows.map((r) => [
    r.area,
    r.rule,
    r.kernelFunction,
    r.notInLab === undefined ? String(r.cases) : '-',
    r.notInLab === undefined ? (r.kind === 'value' ? 'value' : `${r.firing}/${r.notFiring}`) : '-',
    r.notInLab === undefined ? `${r.agreeing}/${r.cases}` : `not in lab: ${r.notInLab}`,
  ]);
  const rows = [header, ...body];
  const widths = header.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}
