/**
 * The benchmark report's data: every results file of `bench/results/` read into one shape
 * (suites, their comparisons and goals) with the machine and the lab boots it was measured on.
 * Two kinds of results files exist: benchmark.js suites (`pnpm bench`, cases with a ratio to
 * the suite's baseline) and benchmark programs (script-suites.ts: `ratios` and `goals`).
 * @module
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SuiteResult } from '../runner.js';
import { type ScriptSuiteResult, scriptSuites } from '../script-suites.js';

/** Programs this project is measured against; a comparison whose baseline names one is "against a peer". */
export const PEER_PROGRAMS: readonly string[] = [
  'sg_read',
  'sg_dd',
  'sgp_dd',
  'sg_raw',
  'fio',
  'iscsi-perf',
  'iscsi-test-cu',
  'tgtd',
  'tgt',
  'open-iscsi',
  'libiscsi',
];

/** Whether `baseline` (`sg_read 4 KiB mmap`) names a peer program rather than a floor. */
export function isPeer(baseline: string): boolean {
  return PEER_PROGRAMS.some(
    (p) => baseline === p || baseline.startsWith(`${p} `) || baseline.startsWith(`${p}:`),
  );
}

/** One ratio: this project's case against a peer or a floor, measured in the same run. */
export interface Comparison {
  readonly case: string;
  readonly against: string;
  /** case / against (throughput), > 1 = faster. */
  readonly ratio: number;
  readonly kind: 'peer' | 'floor';
  readonly metric?: string;
  /** benchmark.js relative margin of error of the case, percent. */
  readonly rmePercent?: number;
}

/** A goal with its measured ratio. */
export interface ReportGoal {
  readonly suite: string;
  readonly goal: string;
  readonly ratio: number;
  readonly min: number;
  readonly met: boolean;
  /** The comparison (case and baseline) it was measured on, when known. */
  readonly case?: string;
  readonly against?: string;
}

/** One suite's results. */
export interface ReportSuite {
  readonly name: string;
  readonly description: string;
  /** `host`, `lab:<profile>`, or `unregistered` for a results file no registry names. */
  readonly where: string;
  readonly date: string;
  readonly kernel?: string;
  readonly comparisons: readonly Comparison[];
  readonly goals: readonly ReportGoal[];
}

/** The machine a report was measured on. */
export interface MachineInfo {
  readonly cpu: string;
  readonly cpus: number;
  readonly memoryGiB: number;
  readonly hostKernel: string;
  readonly node: string;
  /** 1-minute load average when the run started and ended (the machine's other work). */
  readonly loadAverage: { readonly start: number; readonly end: number };
}

/** One lab boot of the run. */
export interface LabBoot {
  readonly profile: string;
  readonly accel: string;
  readonly guestKernel: string;
  readonly guestCpus: number;
  readonly scsiDebug: Readonly<Record<string, string>>;
  readonly bootSeconds: number;
  readonly status: number;
}

/** latest.json. */
export interface BenchmarkReport {
  /** ISO date the run started. */
  readonly date: string;
  /** A remark given with --note (e.g. that the machine was shared). */
  readonly note?: string;
  readonly machine: MachineInfo;
  readonly labBoots: readonly LabBoot[];
  readonly suites: readonly ReportSuite[];
  readonly goals: readonly ReportGoal[];
  /** Registered suites with no results from this run, and results files that could not be read. */
  readonly missing: readonly string[];
}

function isBenchmarkJsResult(value: unknown): value is SuiteResult {
  const v = value as Partial<SuiteResult>;
  return typeof v.suite === 'string' && typeof v.baseline === 'string' && Array.isArray(v.cases);
}

function isScriptResult(value: unknown): value is ScriptSuiteResult {
  const v = value as Partial<ScriptSuiteResult>;
  return typeof v.suite === 'string' && (Array.isArray(v.ratios) || Array.isArray(v.goals));
}

/** A benchmark.js suite's results as report data: every case against the baseline. */
export function fromBenchmarkJs(result: SuiteResult): ReportSuite {
  const kind = isPeer(result.baseline) ? 'peer' : 'floor';
  return {
    name: result.suite,
    description: result.description,
    where: 'host',
    date: result.date,
    kernel: result.environment.kernel,
    comparisons: result.cases
      .filter((c) => c.name !== result.baseline)
      .map((c) => ({
        case: c.name,
        against: result.baseline,
        ratio: c.ratioToBaseline,
        kind,
        rmePercent: c.rmePercent,
      })),
    goals: result.cases.flatMap((c) =>
      c.goal === undefined
        ? []
        : [
            {
              suite: result.suite,
              goal: `${c.name} >= ${c.goal}x ${result.baseline}`,
              ratio: c.ratioToBaseline,
              min: c.goal,
              met: c.goalMet === true,
              case: c.name,
              against: result.baseline,
            },
          ],
    ),
  };
}

/** A benchmark program's results as report data. */
export function fromScriptResult(result: ScriptSuiteResult, fileDate: string): ReportSuite {
  const registered = scriptSuites.find((s) => s.name === result.suite);
  return {
    name: result.suite,
    description: result.description ?? registered?.description ?? '',
    where:
      registered === undefined
        ? 'unregistered'
        : registered.where === 'host'
          ? 'host'
          : `lab:${registered.where.lab}`,
    date: result.date ?? fileDate,
    ...(result.kernel !== undefined ? { kernel: result.kernel } : {}),
    comparisons: (result.ratios ?? []).map((r) => ({
      case: r.path,
      against: r.peer,
      ratio: r.ratio,
      kind: r.kind ?? (isPeer(r.peer) ? 'peer' : 'floor'),
      ...(r.metric !== undefined ? { metric: r.metric } : {}),
    })),
    goals: (result.goals ?? []).map((g) => ({
      suite: result.suite,
      goal: g.goal,
      ratio: g.ratio,
      min: g.min,
      met: g.met,
      ...(g.path !== undefined ? { case: g.path } : {}),
      ...(g.peer !== undefined ? { against: g.peer } : {}),
    })),
  };
}

/** The name of the report's own file in the results directory (never read as a suite). */
export const REPORT_FILE = 'latest.json';

/**
 * Reads every results file in `dir`. With `since`, files older than it (not written by this
 * run) are left out and named in `skipped`; files that are neither kind are named in `unreadable`.
 */
export function readResults(
  dir: string,
  since?: Date,
): { suites: ReportSuite[]; skipped: string[]; unreadable: string[] } {
  const suites: ReportSuite[] = [];
  const skipped: string[] = [];
  const unreadable: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.endsWith('.json') && n !== REPORT_FILE)
      .sort();
  } catch {
    names = [];
  }
  for (const name of names) {
    const path = join(dir, name);
    const modified = statSync(path).mtime;
    if (since !== undefined && modified < since) {
      skipped.push(name);
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      unreadable.push(name);
      continue;
    }
    if (isBenchmarkJsResult(value)) suites.push(fromBenchmarkJs(value));
    else if (isScriptResult(value)) suites.push(fromScriptResult(value, modified.toISOString()));
    else unreadable.push(name);
  }
  return { suites, skipped, unreadable };
}
