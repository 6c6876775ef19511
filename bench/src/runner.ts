/**
 * The benchmark runner: runs one suite with benchmark.js, prints a table of
 * ops/s with the relative margin of error and the ratio of each case to the
 * suite's baseline (a floor or a peer measured in the same run), and writes
 * bench/results/<suite>.json. Absolute numbers depend on the machine; the
 * ratios are what the suites' goals are stated in.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import Benchmark from 'benchmark';

/** One measured function. */
export interface BenchCase {
  /** Row label. */
  readonly name: string;
  /** The work of one operation. */
  readonly fn: () => void;
}

/** A suite: cases plus the baseline they are compared with. */
export interface BenchSuite {
  /** File name of the results (`bench/results/<name>.json`) and `pnpm bench <name>` filter. */
  readonly name: string;
  /** What is measured and what the baseline stands for. */
  readonly description: string;
  /** Name of the case every ratio is taken against (the floor or the peer). */
  readonly baseline: string;
  /** The cases, baseline included. */
  readonly cases: readonly BenchCase[];
  /** Optional goals: minimum ratio to the baseline for named cases. */
  readonly goals?: Readonly<Record<string, number>>;
}

/** One row of the results. */
export interface CaseResult {
  name: string;
  opsPerSecond: number;
  /** Relative margin of error, percent. */
  rmePercent: number;
  samples: number;
  /** opsPerSecond / baseline's opsPerSecond. */
  ratioToBaseline: number;
  /** Minimum ratio wanted, when the suite states one. */
  goal?: number;
  /** Whether the goal was met. */
  goalMet?: boolean;
}

/** What `bench/results/<name>.json` holds. */
export interface SuiteResult {
  suite: string;
  description: string;
  baseline: string;
  date: string;
  environment: { node: string; kernel: string; cpu: string };
  cases: CaseResult[];
}

function measure(c: BenchCase): Promise<Benchmark> {
  return new Promise((resolve, reject) => {
    const bench = new Benchmark(c.name, c.fn, {
      minSamples: 20,
      onComplete: () => resolve(bench),
      onError: (event: Benchmark.Event) =>
        reject(
          new Error(`benchmark ${c.name} failed: ${String((event.target as { error?: unknown }).error)}`),
        ),
    });
    bench.run();
  });
}

/** Runs the suite, prints its table and writes its JSON file into `resultsDir`. */
export async function runSuite(suite: BenchSuite, resultsDir: string): Promise<SuiteResult> {
  if (!suite.cases.some((c) => c.name === suite.baseline)) {
    throw new Error(`suite ${suite.name}: baseline '${suite.baseline}' is not one of its cases`);
  }
  const measured: { name: string; hz: number; rme: number; samples: number }[] = [];
  for (const c of suite.cases) {
    const b = await measure(c);
    measured.push({ name: c.name, hz: b.hz, rme: b.stats.rme, samples: b.stats.sample.length });
  }
  const base = measured.find((m) => m.name === suite.baseline)!;
  const cases: CaseResult[] = measured.map((m) => {
    const row: CaseResult = {
      name: m.name,
      opsPerSecond: m.hz,
      rmePercent: m.rme,
      samples: m.samples,
      ratioToBaseline: m.hz / base.hz,
    };
    const goal = suite.goals?.[m.name];
    if (goal !== undefined) {
      row.goal = goal;
      row.goalMet = row.ratioToBaseline >= goal;
    }
    return row;
  });
  const result: SuiteResult = {
    suite: suite.name,
    description: suite.description,
    baseline: suite.baseline,
    date: new Date().toISOString(),
    environment: { node: process.version, kernel: release(), cpu: cpus()[0]?.model ?? 'unknown' },
    cases,
  };
  printSuite(result);
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(`${resultsDir}/${suite.name}.json`, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

function printSuite(result: SuiteResult): void {
  const header = ['case', 'ops/s', '±rme', 'samples', `x ${result.baseline}`, 'goal'];
  const rows = result.cases.map((c) => [
    c.name,
    Math.round(c.opsPerSecond).toLocaleString('en-US'),
    `${c.rmePercent.toFixed(2)}%`,
    String(c.samples),
    c.ratioToBaseline.toFixed(3),
    c.goal === undefined ? '' : `>= ${c.goal} ${c.goalMet ? 'met' : 'MISSED'}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log(`\n${result.suite}: ${result.description}`);
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}
